import { defineConfig, mergeConfig } from "vitest/config";
import viteConfig from "./vite.config";

// Unit tests of the UI's pure modules (i18n, shortcuts, template ranking), in Node with
// the few browser globals they read stubbed (src/test-setup.ts).
export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      include: ["src/**/*.test.ts"],
      environment: "node",
      setupFiles: ["src/test-setup.ts"],
    },
  }),
);
