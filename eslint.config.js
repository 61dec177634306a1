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
);
