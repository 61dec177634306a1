import { defineConfig } from "vitest/config";

// Tiers mirror test/: unit (pure code and local processes), tools (the real schema
// validators), vm (real libvirt VMs under QEMU), e2e (a real cloud-init guest).
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 60_000 } },
      { test: { name: "tools", include: ["test/tools/**/*.test.ts"], testTimeout: 120_000 } },
      {
        test: {
          name: "vm",
          include: ["test/vm/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 1_200_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
