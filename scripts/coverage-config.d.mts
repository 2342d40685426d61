// Types of coverage-config.mjs, for the vitest configs that a tsconfig includes (the extension's).

/** Per cent, below which a run fails. */
export interface CoverageThresholds {
  lines: number;
  branches: number;
  functions: number;
  statements: number;
}

/** The `test.coverage` block of a package's vitest config. */
export function coverageConfig(
  thresholds: CoverageThresholds,
  exclude?: string[],
): {
  enabled: boolean;
  provider: 'v8';
  include: string[];
  exclude: string[];
  reporter: string[];
  reportsDirectory: string;
  reportOnFailure: boolean;
  thresholds: CoverageThresholds;
};
