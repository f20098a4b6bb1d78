// What is kept of a phase's output for its log (.ggen/logs/<phase>.log): the start and the end, within a
// budget of characters, and a line saying how much in between was not kept. A phase printing gigabytes
// costs memory for the budget only; the end is held in blocks of joined lines, so millions of short lines
// are a few strings, not millions.

export const DEFAULT_LOG_CHARS = 1024 * 1024;
const BLOCK_CHARS = 64 * 1024;

interface Block {
  text: string;
  lines: number;
  chars: number;
}

export class KeptOutput {
  private readonly headBudget: number;
  private readonly tailBudget: number;
  private readonly head: string[] = [];
  private headChars = 0;
  private headFull = false;
  private blocks: Block[] = [];
  private blocksChars = 0;
  private open: string[] = [];
  private openChars = 0;
  private droppedLines = 0;
  private droppedChars = 0;

  /** `budget` characters in all: a quarter for the first lines, the rest for the last ones. */
  constructor(budget: number = DEFAULT_LOG_CHARS) {
    this.headBudget = Math.floor(budget / 4);
    this.tailBudget = budget - this.headBudget;
  }

  push(line: string): void {
    const size = line.length + 1;
    if (!this.headFull) {
      if (this.headChars + size <= this.headBudget) {
        this.head.push(line);
        this.headChars += size;
        return;
      }
      this.headFull = true;
    }
    this.open.push(line);
    this.openChars += size;
    if (this.openChars < BLOCK_CHARS) return;
    this.blocks.push({ text: this.open.join("\n"), lines: this.open.length, chars: this.openChars });
    this.blocksChars += this.openChars;
    this.open = [];
    this.openChars = 0;
    // Whole blocks go from the front while what stays still fills the budget.
    while (this.blocks.length > 0 && this.blocksChars - this.blocks[0]!.chars >= this.tailBudget) {
      const gone = this.blocks.shift()!;
      this.blocksChars -= gone.chars;
      this.droppedLines += gone.lines;
      this.droppedChars += gone.chars;
    }
  }

  /** Whether anything was left out. */
  get truncated(): boolean {
    return this.droppedLines > 0;
  }

  /** The log: the first lines, what was not kept, the last lines. */
  text(): string {
    const parts = [...this.head];
    if (this.droppedLines) {
      parts.push(
        `[… ${this.droppedLines} line(s), ${this.droppedChars} characters not kept: over the log limit …]`,
      );
    }
    for (const b of this.blocks) parts.push(b.text);
    parts.push(...this.open);
    return parts.join("\n");
  }
}
