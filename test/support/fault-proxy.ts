// The bench imports the proxy by this path; the proxy itself is in ./fault-proxy/.
export * from "./fault-proxy/index.ts";
