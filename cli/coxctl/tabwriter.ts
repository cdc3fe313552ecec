/**
 * Go's text/tabwriter as kubectl's printers set it up (minwidth 6, padding 3, spaces):
 * cells end with a tab, and each block of consecutive lines that have a cell in a column
 * pads that column to its widest cell plus the padding (at least the minimum width). The
 * text after a line's last tab is not aligned. kubectl top writes its table this way,
 * trailing tabs included, so its lines end in padding; this reproduces that byte for byte.
 */

const MIN_WIDTH = 6;
const PADDING = 3;

export function tabwrite(text: string): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const last = lines.pop(); // the text after the last newline (kubectl's ends with one)
  const out: string[] = [];
  const widths: number[] = [];
  // Go's format(): columns left to right, a column block is a run of lines with a cell in that column.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur].length - 1) continue;
      writeLines(line0, cur);
      line0 = cur;
      let width = MIN_WIDTH;
      for (; cur < line1; cur++) {
        const line = lines[cur];
        if (column >= line.length - 1) break;
        width = Math.max(width, [...line[column]].length + PADDING);
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
      cur--;
    }
    writeLines(line0, line1);
  };
  let written = 0;
  const writeLines = (line0: number, line1: number): void => {
    for (let i = Math.max(line0, written); i < line1; i++) {
      out.push(lines[i].map((c, j) => (j < widths.length ? c.padEnd(widths[j] - ([...c].length - c.length)) : c)).join('') + '\n');
    }
    written = Math.max(written, line1);
  };
  format(0, lines.length);
  return out.join('') + (last && last.length ? last.join('\t') : '');
}
