import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: "safari15",
    outDir: "dist",
    emptyOutDir: true,
    // One script file, no inline scripts: the app CSP allows only 'self'.
    modulePreload: { polyfill: false },
  },
  server: { port: 1420, strictPort: true },
});
