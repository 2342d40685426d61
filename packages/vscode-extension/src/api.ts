import type { DownloadInfo, ServiceInfo } from '@multiget/server/protocol';
import type { ServiceConnection, ServiceStatus } from './service/ServiceConnection';

/**
 * What `activate` returns to tests (only in test mode: an Extension Development Host running tests,
 * or a host started with MULTIGET_SELF_TEST_SUITE). Other extensions get nothing: the download list
 * is the user's business.
 */
export interface MultigetTestApi {
  /** Where the service connection stands. */
  status(): ServiceStatus;
  /** Resolves once the service runs (and its list was read), or rejects after `timeoutMs`. */
  whenRunning(timeoutMs: number): Promise<ServiceInfo>;
  /** The extension's copy of the download list. */
  downloads(): DownloadInfo[];
  /** Text of the status bar item. */
  statusBarText(): string;
  /** Whether the Downloads panel exists and is visible. */
  panel(): { open: boolean; visible: boolean };
  /** A typed request to the service. */
  request: ServiceConnection['request'];
  /** Feeds a raw message through the panel's validation as if the webview had posted it. */
  panelMessage(raw: unknown): Promise<boolean>;
  /** The absolute configured download folder. */
  downloadFolder(): string;
}
