export function buildConsole(outDir: string): Promise<void>;
