/**
 * A small, strict XML reader for the documents Multiget reads (Metalink 4): elements, attributes,
 * text, CDATA and the five predefined entities plus character references. No DTD: a document with a
 * DOCTYPE is refused, so that no entity expansion can happen. Namespaces are kept as written
 * (`xmlns` attributes) and element names as local names (the prefix dropped).
 */

/** One element of a parsed document. */
export interface XmlElement {
  /** Local name (without a namespace prefix). */
  readonly name: string;
  /** The namespace URI in scope for this element, or '' when none. */
  readonly ns: string;
  /** Attributes by their name as written (prefixes kept). */
  readonly attrs: Readonly<Record<string, string>>;
  /** Child elements in document order. */
  readonly children: XmlElement[];
  /** The element's own text (child elements' text not included), entities decoded. */
  text: string;
}

/** Thrown for a document that is not well-formed XML. */
export class XmlError extends Error {
  override name = 'XmlError';
}

const MAX_DEPTH = 64;
const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError('A bare "&" in text or an attribute');
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff) throw new XmlError(`Bad character reference ${whole}`);
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[ref];
    if (value === undefined) throw new XmlError(`Unknown entity ${whole}`);
    return value;
  });
}

/**
 * Parses a document and returns its root element.
 *
 * @throws XmlError when the text is not well-formed or declares a DOCTYPE.
 */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const stack: Array<{ el: XmlElement; raw: string; nsMap: Map<string, string> }> = [];
  let root: XmlElement | undefined;
  const fail = (what: string): never => {
    throw new XmlError(`${what} at offset ${i}`);
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt === -1 ? text.slice(i) : text.slice(i, lt);
    if (chunk.length > 0) {
      const top = stack.at(-1);
      if (top) top.el.text += decode(chunk);
      else if (chunk.trim() !== '') fail('Text outside the root element');
    }
    if (lt === -1) break;
    i = lt;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end === -1) fail('Unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) fail('Unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      const top = stack.at(-1);
      if (end === -1 || !top) fail('CDATA outside an element or unterminated');
      top!.el.text += text.slice(i + 9, end);
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      fail('A DOCTYPE or declaration (not accepted)');
    } else if (text.startsWith('</', i)) {
      const m = NAME.exec(text.slice(i + 2, i + 2 + 256));
      const top = stack.pop();
      if (!m || !top || m[0] !== top.raw) fail('Mismatched end tag');
      i += 2 + m![0].length;
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] !== '>') fail('Malformed end tag');
      i++;
    } else {
      const m = NAME.exec(text.slice(i + 1, i + 1 + 256));
      if (!m) fail('Malformed tag');
      const raw = m![0];
      i += 1 + raw.length;
      const attrs: Record<string, string> = {};
      for (;;) {
        const ws = /^\s*/.exec(text.slice(i, i + 4096))![0].length;
        i += ws;
        if (text.startsWith('/>', i) || text[i] === '>') break;
        if (ws === 0) fail('Missing space between attributes');
        const a = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(text.slice(i, i + 1_000_000));
        if (!a) fail('Malformed attribute');
        if (Object.hasOwn(attrs, a![1]!)) fail(`Duplicate attribute ${a![1]}`);
        attrs[a![1]!] = decode(a![3] ?? a![4] ?? '');
        i += a![0].length;
      }
      const selfClosing = text[i] === '/';
      i += selfClosing ? 2 : 1;
      const parentNs = stack.at(-1)?.nsMap ?? new Map<string, string>();
      let nsMap = parentNs;
      for (const [k, v] of Object.entries(attrs)) {
        if (k === 'xmlns' || k.startsWith('xmlns:')) {
          if (nsMap === parentNs) nsMap = new Map(parentNs);
          nsMap.set(k === 'xmlns' ? '' : k.slice(6), v);
        }
      }
      const colon = raw.indexOf(':');
      const prefix = colon === -1 ? '' : raw.slice(0, colon);
      const el: XmlElement = {
        name: colon === -1 ? raw : raw.slice(colon + 1),
        ns: nsMap.get(prefix) ?? '',
        attrs,
        children: [],
        text: '',
      };
      const parent = stack.at(-1);
      if (parent) parent.el.children.push(el);
      else if (root) fail('A second root element');
      else root = el;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) fail('Elements nested too deep');
        stack.push({ el, raw, nsMap });
      }
    }
  }
  if (stack.length > 0) throw new XmlError(`Unclosed element <${stack.at(-1)!.raw}>`);
  if (!root) throw new XmlError('No root element');
  return root;
}
