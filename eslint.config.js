import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "dist-check/**", "node_modules/**", "test/fixtures/**", ".test-out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // tests poke at parsed, untyped documents (XML, YAML, JSON)
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // every start registers all verbs: ops, adapters and heavy packages load in the action,
    // with `await import()` (src/cli/commands.ts); types may still be imported
    files: ["src/cli/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "../ops/*",
                "../adapters/*",
                "execa",
                "ssh2",
                "eventsource",
                "fast-xml-parser",
                "js-yaml",
              ],
              allowTypeImports: true,
              message: "load it in the command's action with `await import()` (see src/cli/commands.ts)",
            },
          ],
        },
      ],
    },
  },
  {
    // core is pure: no I/O modules (ARCHITECTURE.md, Layers)
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            "node:fs",
            "node:fs/*",
            "node:child_process",
            "node:net",
            "execa",
            "ssh2",
            "../adapters/*",
            "../ops/*",
          ],
        },
      ],
    },
  },
  {
    // ops ask the host seam (ctx.host, src/host/host.ts) for every file and tool operation, so the
    // same op runs on a local or a remote host; only the host's implementations touch these
    files: ["src/ops/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["node:fs", "node:fs/*", "fs", "fs/*", "node:child_process", "child_process", "execa"],
              message:
                "ops do host work through ctx.host (src/host/host.ts); the package's own files through adapters/controller-files.ts",
            },
          ],
        },
      ],
    },
  },
  {
    // ops are the product's centre; the CLI is one client of them (ARCHITECTURE.md, Layers)
    files: ["src/ops/**/*.ts", "src/adapters/**/*.ts", "src/core/**/*.ts", "src/guest/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["../cli/*"], message: "ops take an OpContext (src/ops/context.ts), never the CLI's" },
          ],
        },
      ],
    },
  },
  {
    // the API (src/api) is below the CLI and above the ops: it never imports the CLI, and like
    // the CLI it loads ops, adapters and heavy packages on a verb's first call (a CLI start
    // loads the API), so a program that uses one verb loads that verb's modules only
    files: ["src/api/**/*.ts", "src/index.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["../cli/*", "./cli/*"],
              message: "the CLI is a client of the API, never the other way",
            },
            {
              group: [
                "../ops/*",
                "../adapters/*",
                "./ops/*",
                "./adapters/*",
                "execa",
                "ssh2",
                "eventsource",
                "fast-xml-parser",
                "js-yaml",
              ],
              allowTypeImports: true,
              message: "load it in the verb with `await import()` (src/api/agentshare.ts)",
            },
          ],
        },
      ],
    },
  },
);
