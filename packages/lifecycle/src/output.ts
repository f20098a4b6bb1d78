// What is kept of a phase's output for its log (.ggen/logs/<phase>.log): the start and the end, within a
// budget of characters, and a line saying how much in between was not kept. A phase printing gigabytes
// costs memory for the budget only.

export const DEFAULT_LOG_CHARS = 1024 * 1024;

export class KeptOutput {
  private readonly headBudget: number;
  private readonly tailBudget: number;
  private readonly head: string[] = [];
  private headChars = 0;
  private headFull = false;
  private tail: string[] = [];
  private tailFrom = 0;
  private tailChars = 0;
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
    this.tail.push(line);
    this.tailChars += size;
    while (this.tailChars > this.tailBudget && this.tailFrom < this.tail.length) {
      const gone = this.tail[this.tailFrom++]!;
      this.tailChars -= gone.length + 1;
      this.droppedLines++;
      this.droppedChars += gone.length + 1;
    }
    // Drop the consumed front now and then, so the array stays near the budget's size.
    if (this.tailFrom > 1024 && this.tailFrom * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailFrom);
      this.tailFrom = 0;
    }
  }

  /** Whether anything was left out. */
  get truncated(): boolean {
    return this.droppedLines > 0;
  }

  lines(): string[] {
    const rest = this.tail.slice(this.tailFrom);
    if (!this.droppedLines) return [...this.head, ...rest];
    return [
      ...this.head,
      `[… ${this.droppedLines} line(s), ${this.droppedChars} characters not kept: over the log limit …]`,
      ...rest,
    ];
  }
}
