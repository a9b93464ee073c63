// Preloaded into a service under test (node --import): on exit, says whether the lazily imported
// OpenTelemetry SDK module (common/otel.ts sets the flag when evaluated) was ever loaded.
process.on("exit", () => {
  process.stderr.write(`\notel-sdk-loaded=${globalThis.__otelSdkLoaded === true}\n`);
});
