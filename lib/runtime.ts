import { readConfig } from "./config.ts";
import { createStore } from "./store.ts";

/** The store every function uses, built once per cold start from the environment. */
export const store = createStore(readConfig());
