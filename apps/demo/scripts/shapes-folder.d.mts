/** See shapes-folder.mjs. */
export function writeShapesFolder(
  root: string,
  options: { classes: number[]; perClass: number; size?: number; seed?: number },
): Promise<number>;
