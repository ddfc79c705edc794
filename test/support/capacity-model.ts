// The bench imports the model by this path; the model itself is in ./capacity-model/.
export * from "./capacity-model/index.ts";
