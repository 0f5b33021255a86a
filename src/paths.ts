import fs from 'node:fs';
import path from 'node:path';

// The same code runs from src/ (tsx) and from dist/src/ (compiled), so paths are found from the
// package root rather than from this file's position.
function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
}

export const projectRoot = findProjectRoot(__dirname);
export const viewsDir = path.join(projectRoot, 'src', 'views');
export const publicDir = path.join(projectRoot, 'public');
// Migrations sit beside this file's tree: db/migrations (tsx) or dist/db/migrations (compiled).
export const migrationsDir = path.resolve(__dirname, '..', 'db', 'migrations');
