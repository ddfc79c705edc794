import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse } from "csv-parse/sync";
import type { ImageInput } from "../client/index.ts";
import { UsageError } from "./errors.ts";

/** The columns (CSV) or keys (JSON) an image may have: the POST's image fields. */
const IMAGE_FIELDS = ["img_id", "img_name", "state", "label", "group"] as const;
const REQUIRED = ["img_id", "img_name"] as const;

/**
 * The images of a file, in file order. JSON: an array of the POST's image objects, sent as they
 * are (the API validates them). CSV: UTF-8 with or without a BOM, a header row naming the fields
 * (img_id and img_name required), RFC 4180 quoting; an empty optional cell is left out. An img_id
 * twice in the file is refused here: split over two requests it would silently be one image.
 */
export async function readImagesFile(file: string): Promise<ImageInput[]> {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const kind = extname(file).toLowerCase();
  const images = kind === ".json" ? fromJson(file, text) : kind === ".csv" ? fromCsv(file, text) : undefined;
  if (!images) throw new UsageError(`${file}: expected a .csv or .json file`);
  if (images.length === 0) throw new UsageError(`${file}: no images`);
  const seen = new Map<string, number>();
  images.forEach((image, index) => {
    const id = String(image.img_id);
    const first = seen.get(id);
    if (first !== undefined) {
      throw new UsageError(`${file}: img_id ${id} appears twice (images ${first + 1} and ${index + 1})`);
    }
    seen.set(id, index);
  });
  return images;
}

function fromJson(file: string, text: Buffer): ImageInput[] {
  let value: unknown;
  try {
    value = JSON.parse(text.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new UsageError(`${file}: not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new UsageError(`${file}: expected a JSON array of image objects`);
  value.forEach((image, index) => {
    if (typeof image !== "object" || image === null || Array.isArray(image) || !("img_id" in image)) {
      throw new UsageError(`${file}: image ${index + 1} is not an object with img_id and img_name`);
    }
  });
  return value as ImageInput[];
}

function fromCsv(file: string, text: Buffer): ImageInput[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      columns: (header: string[]) => {
        const names = header.map((name) => name.trim());
        const unknown = names.filter((name) => !(IMAGE_FIELDS as readonly string[]).includes(name));
        if (unknown.length > 0) {
          throw new UsageError(
            `${file}: unknown column ${unknown.map((name) => JSON.stringify(name)).join(", ")} (columns: ${IMAGE_FIELDS.join(", ")})`,
          );
        }
        const missing = REQUIRED.filter((name) => !names.includes(name));
        if (missing.length > 0) throw new UsageError(`${file}: the header row needs ${missing.join(" and ")}`);
        return names;
      },
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  return records.map((record) => {
    const image: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(record)) {
      if (value === "" && key !== "img_id" && key !== "img_name") continue;
      // state is an integer; anything else goes as it is and the API names it (1011).
      image[key] = key === "state" && /^\d+$/.test(value) ? Number(value) : value;
    }
    return image as ImageInput;
  });
}
