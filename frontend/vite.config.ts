/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The console is served by the Python server from backend/interlock/static/ (same origin,
// relative URLs); in dev, vite proxies the API and the WebSocket to a local server.
const backend = process.env.INTERLOCK_DEV_BACKEND ?? "http://127.0.0.1:8000";
const apiPaths = ["/health", "/auth", "/task-types", "/tasks", "/uploads", "/hardware"];

/**
 * The bundle lands inside the Python package, outside frontend/, where frontend/.gitignore
 * cannot reach; a `.gitignore` written next to it keeps the build output out of git.
 */
function ignoreBuildOutput(): Plugin {
  return {
    name: "interlock-ignore-build-output",
    apply: "build",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: ".gitignore", source: "*\n" });
    },
  };
}

export default defineConfig({
  plugins: [react(), ignoreBuildOutput()],
  build: {
    outDir: "../backend/interlock/static",
    emptyOutDir: true,
  },
  server: {
    proxy: {
      ...Object.fromEntries(apiPaths.map((path) => [path, { target: backend }])),
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    restoreMocks: true,
  },
});
