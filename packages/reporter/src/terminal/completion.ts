// `<program> completion [bash|zsh]`: the shell script that asks the program for completions
// (`<program> --get-yargs-completions <words…>`, answered by yargs from the command tables). yargs prints
// its own script for whichever shell $SHELL names and takes a shell argument for an unknown command, so
// the scripts are written here: the shell is chosen by the argument, and zsh gets descriptions whatever
// the login shell is (ZSH_NAME tells yargs to answer in zsh's `name:description` form).

import { GgenError } from "@ggen/contract";

export const COMPLETION_SHELLS = ["bash", "zsh"] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const id = (program: string) => program.replace(/[^A-Za-z0-9_]/g, "_");

function bash(program: string): string {
  const fn = `_${id(program)}_completions`;
  return `###-begin-${program}-completions-###
# ${program} completion for bash. Install: ${program} completion bash >> ~/.bashrc
${fn}()
{
    local cur_word args type_list
    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    args=("\${COMP_WORDS[@]}")
    type_list=$(${program} --get-yargs-completions "\${args[@]}")
    COMPREPLY=( $(compgen -W "\${type_list}" -- "\${cur_word}") )
    return 0
}
complete -o bashdefault -o default -F ${fn} ${program}
###-end-${program}-completions-###
`;
}

function zsh(program: string): string {
  const fn = `_${id(program)}_completions`;
  return `#compdef ${program}
###-begin-${program}-completions-###
# ${program} completion for zsh. Install: ${program} completion zsh >> ~/.zshrc
${fn}()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(ZSH_NAME=zsh COMP_CWORD="$((CURRENT-1))" COMP_LINE="$BUFFER" COMP_POINT="$CURSOR" ${program} --get-yargs-completions "\${words[@]}"))
  IFS=$si
  _describe 'values' reply
}
compdef ${fn} ${program}
###-end-${program}-completions-###
`;
}

/** The shell a bare `completion` means: the login shell when it is one we support, else bash. */
export function defaultShell(env: NodeJS.ProcessEnv = process.env): CompletionShell {
  return (env.SHELL ?? "").endsWith("zsh") ? "zsh" : "bash";
}

/** The completion script of `program` for `shell`; any other shell is a usage error naming the supported ones. */
export function completionScript(program: string, shell: string): string {
  if (shell === "bash") return bash(program);
  if (shell === "zsh") return zsh(program);
  throw new GgenError(
    "UNSUPPORTED_SHELL",
    `completion: no script for shell '${shell}'; supported: ${COMPLETION_SHELLS.join(", ")}`,
    { kind: "usage" },
  );
}
