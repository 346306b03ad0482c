import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type District, parseDistrict } from '#shared/district.ts';

/** `infra/districts`: one JSON file per district. */
export const DISTRICTS_DIR = fileURLToPath(new URL('../districts/', import.meta.url));

export interface LoadedDistrict {
  /** Path of the file it came from, for messages. */
  file: string;
  district: District;
}

/**
 * Reads and validates every `*.json` in `dir`. A file that is not JSON, fails the schema,
 * or whose `id` does not match its file name throws an error naming the file and field.
 */
export function loadDistricts(dir: string = DISTRICTS_DIR): LoadedDistrict[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no district configs (*.json) in ${dir}`);
  const loaded = files.map((name) => {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`invalid district config ${file}: not valid JSON (${(e as Error).message})`);
    }
    const district = parseDistrict(raw, file);
    const expected = name.slice(0, -'.json'.length);
    if (district.id !== expected) {
      throw new Error(
        `invalid district config ${file}: id: "${district.id}" must match the file name "${expected}"`,
      );
    }
    return { file, district };
  });
  return loaded;
}

/** Narrows to one district by id (the `-c district=<id>` context); an unknown id throws. */
export function selectDistricts(all: LoadedDistrict[], id?: string): LoadedDistrict[] {
  if (id === undefined || id === '') return all;
  const match = all.filter((d) => d.district.id === id);
  if (match.length === 0) {
    const known = all.map((d) => d.district.id).join(', ');
    throw new Error(`unknown district "${id}" (-c district=${id}); known districts: ${known}`);
  }
  return match;
}
