"""Safety gates: one policy that every env consults before it runs an action.

Risky actions (each a ``kind`` of :class:`Verdict`):

- ``shell``: typing a shell command that is risky by class, read as bash reads it (envs/shell_gate.py,
  docs/safety.md): deleting or overwriting files, privilege, inline code, a computed command name, packages,
  services and power, downloads that write or run, destructive git, or a line the gate cannot read;
- ``hotkey``: system key combinations (ctrl+alt+delete, ctrl+alt+F1…F12, alt+sysrq, super/meta, alt+F4 …);
- ``navigation``: opening a page outside ``allow_domains`` (``goto``, a link, a form's destination);
- ``download``: a download link, or a download the page starts;
- ``secret``: typing a secret, or submitting a form that holds one, anywhere but the secret's domains.

What happens to a risky action: with a ``confirm`` callback (an interactive session) the person is asked, and
the action runs only if they say yes; without one (benchmarks, scripts) it is denied. A denied action is not
run; its reason comes back to the model as the observation's ``last_action_error``, the same path as any
action that failed (:class:`ActionRefused` is an :class:`core.env.ActionError`).

Secrets. An instruction holds a placeholder, ``{{secret:NAME}}``; the model only ever sees and writes the
placeholder. The env swaps in the value when it types (``type(content='{{secret:NAME}}')``), and nowhere else:
not in ``goto`` URLs, not in ``finished`` answers. Values come from ``SCREENWISE_SECRET_<NAME>`` environment
variables or a JSON file (:func:`load_secrets`); each secret may go only to its own domains (or, when it has
none, to ``allow_domains``). Whatever an env reads back (element texts, the URL, the title, error messages)
has values replaced by their placeholders, and elements showing a value are painted over in the screenshot,
before the model or a trajectory sees them.

Sites, as domains match them: a web page is its host (``example.com`` also matches ``www.example.com``), a
local file page is ``file``, and a desktop is ``desktop``; ``*`` matches every site.

Data enters as an action plus a :class:`Site` (what the env found where the action lands: the page, a link, a
form) and leaves as a :class:`Verdict`, or as the action to run with secrets filled in.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable
from urllib.parse import quote, quote_plus, urlsplit

from PIL import ImageDraw

from core import actions as A
from core.env import ActionError, Observation
from envs.executor import key_names
from envs.shell_gate import shell_risk

PLACEHOLDER = re.compile(r"\{\{secret:([A-Za-z0-9_]+)\}\}")
SECRET_ENV_PREFIX = "SCREENWISE_SECRET_"
LOCAL_SCHEMES = ("file", "about", "data", "blob")  # pages that never leave the machine
REMOTE_SCHEMES = ("http", "https", "ws", "wss", "ftp")
DOWNLOAD_SUFFIXES = (".exe", ".msi", ".bat", ".cmd", ".ps1", ".sh", ".run", ".bin", ".appimage", ".deb", ".rpm",
                     ".apk", ".dmg", ".pkg", ".jar", ".zip", ".tar", ".gz", ".tgz", ".xz", ".bz2", ".7z", ".rar",
                     ".iso", ".img")


class ActionRefused(ActionError):
    """The safety policy (or the person it asked) refused an action; the message is written for the model."""


@dataclass(frozen=True)
class Verdict:
    decision: str  # allow | ask | deny
    kind: str = ""  # shell | hotkey | navigation | download | secret; empty when allowed
    reason: str = ""  # what is risky, in words for the person and the model
    target: str = ""  # what an approval covers: a host, a download URL, "secret:NAME@site"


@dataclass(frozen=True)
class Site:
    """Where an action lands, as the env sees it just before running it."""

    place: str = ""  # the page's URL in a browser; "desktop" on a desktop
    link: str = ""  # the URL a click there would open
    download: bool = False  # the click target is a download link (<a download>)
    form_action: str = ""  # the action submits a form, to this URL
    form_values: tuple[str, ...] = field(default=(), repr=False)  # that form's field values


@dataclass(frozen=True)
class Secret:
    name: str
    value: str = field(repr=False)
    domains: tuple[str, ...] = ()


class SecretsError(ValueError):
    """The secrets given (a file, ``SCREENWISE_SECRET_*`` variables) cannot be used as they are."""


def load_secrets(path: str | Path | None = None, environ: dict | None = None) -> dict[str, Secret]:
    """Secrets from ``SCREENWISE_SECRET_<NAME>`` variables, then a JSON file (which wins on a clash).

    ``SCREENWISE_SECRET_<NAME>_DOMAINS=a.com,b.org`` sets a variable's domains. The file maps a name to a value
    or to ``{"value": ..., "domains": [...]}``. Names are lower-cased: ``{{secret:bank_password}}``.
    """
    environ = os.environ if environ is None else environ
    found: dict[str, dict] = {}
    for key, value in environ.items():
        if not key.startswith(SECRET_ENV_PREFIX):
            continue
        name = key[len(SECRET_ENV_PREFIX):].lower()
        if name.endswith("_domains"):
            found.setdefault(name[:-len("_domains")], {})["domains"] = _split_domains(value)
        else:
            found.setdefault(name, {})["value"] = value
    if path is not None:
        try:
            entries = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:  # missing, unreadable, not JSON: the message names the file
            raise SecretsError(f"cannot read the secrets file {path}: {e}") from e
        if not isinstance(entries, dict):
            raise SecretsError(f"the secrets file {path} must hold a JSON object of name: value")
        for name, entry in entries.items():
            found[name.lower()] = entry if isinstance(entry, dict) else {"value": entry}
    secrets = {}
    for name, entry in found.items():
        if "value" not in entry:
            raise SecretsError(f"secret {name!r} has domains but no value ({SECRET_ENV_PREFIX}{name.upper()})")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise SecretsError(f"secret name {name!r}: use letters, digits and _")
        value = str(entry["value"])
        if len(value) < 4:
            raise SecretsError(f"secret {name!r} is shorter than 4 characters: too short to redact reliably")
        secrets[name] = Secret(name, value, tuple(_split_domains(entry.get("domains", ()))))
    return secrets


def _split_domains(value) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [d.strip().lower() for d in items if d.strip()]


def site_of(url: str) -> str:
    """The site a URL belongs to, as domains name it: its host, ``file`` or ``desktop``."""
    if url == "desktop":
        return "desktop"
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file"
    return (parts.hostname or "").lower()


def domain_matches(site: str, domains) -> bool:
    return any(d == "*" or site == d or (d not in ("file", "desktop") and site.endswith("." + d)) for d in domains)


# -- the checks, as pure functions --------------------------------------------------------------------------

# Keys by their canonical names (envs/executor.py KEY_ALIASES): "meta" is the super/Windows/command key, and
# "printscreen" is also SysRq.
_SYSTEM_HOTKEYS: list[tuple[frozenset, str]] = [
    (frozenset({"ctrl", "alt", "delete"}), "ctrl+alt+delete (the system's reboot / log-out key)"),
    (frozenset({"ctrl", "alt", "backspace"}), "ctrl+alt+backspace (kills the X server)"),
    (frozenset({"alt", "printscreen"}), "alt+sysrq (the kernel's magic keys)"),
    (frozenset({"meta"}), "the super key (the desktop's own shortcuts)"),
    (frozenset({"alt", "f4"}), "alt+F4 (closes the window)"),
    (frozenset({"alt", "f2"}), "alt+F2 (the desktop's run-a-command box)"),
    (frozenset({"ctrl", "alt", "l"}), "ctrl+alt+L (locks the screen)"),
    (frozenset({"ctrl", "alt", "end"}), "ctrl+alt+end (the remote-desktop reboot key)"),
    (frozenset({"ctrl", "q"}), "ctrl+Q (quits the program)"),
    (frozenset({"ctrl", "shift", "q"}), "ctrl+shift+Q (quits the program or logs out)"),
] + [(frozenset({"ctrl", "alt", f"f{n}"}), f"ctrl+alt+F{n} (switches to a text console)") for n in range(1, 13)]


def hotkey_risk(combo: str) -> str:
    """Why a key combination is a system hotkey, or '' when it is an ordinary one."""
    keys = key_names(combo)
    for needed, why in _SYSTEM_HOTKEYS:
        if needed <= keys:
            return f"pressing {why}"
    return ""


def _is_enter(action) -> bool:
    return isinstance(action, A.Hotkey) and key_names(action.key) == {"enter"}


# -- the policy ---------------------------------------------------------------------------------------------

class SafetyPolicy:
    """Decides allow / ask / deny for each action, asks the person when it can, and keeps secrets.

    ``allow_domains``: the sites navigation may reach (None: anywhere). ``secrets``: name -> :class:`Secret`.
    ``confirm(question) -> bool``: asks the person; without it every risky action is denied.

    A policy belongs to one env: it keeps what the person approved this session (a host, a download) and the
    line being typed, so that a command typed in pieces is judged whole.
    """

    def __init__(self, allow_domains=None, secrets: dict[str, Secret] | None = None,
                 confirm: Callable[[str], bool] | None = None):
        self.allow_domains = None if allow_domains is None else tuple(_split_domains(allow_domains))
        self.secrets = dict(secrets or {})
        self.confirm = confirm
        self.approved: set[str] = set()  # Verdict.target values the person said yes to
        self.line = ""  # text typed since the last Enter or click (placeholders, not values)
        self.log: list[Verdict] = []  # every risky verdict, in order (what was asked or refused)

    @property
    def watches_pages(self) -> bool:
        """Whether the env should look where actions land (links, forms) and guard the page's requests."""
        return self.confirm is not None or self.allow_domains is not None or bool(self.secrets)

    # -- decisions -----------------------------------------------------------------------------------------
    def check(self, action, site: Site = Site()) -> Verdict:
        """The verdict on one action at ``site``: its first risk not yet approved, or allow."""
        return next(iter(self.risks(action, site)), Verdict("allow"))

    def risks(self, action, site: Site = Site()) -> list[Verdict]:
        """Every risk of one action at ``site`` not yet approved, as ask (or deny) verdicts."""
        decision = "ask" if self.confirm else "deny"
        # A reason quotes what was typed (a shell line): a value in it goes back to its placeholder.
        return [Verdict(decision, kind, self.redact(reason), target)
                for kind, reason, target in self._risks(action, site) if not (target and target in self.approved)]

    def _risks(self, action, site: Site):
        if isinstance(action, A.Type):
            why = shell_risk(self.line + action.content)
            if why:
                yield "shell", f"typing a destructive shell command: {why}", ""
            for name in self._placeholders(action.content):
                yield from self._secret_risk(name, site.place, "typing")
            if action.content.endswith("\n"):
                yield from self._submit_risks(site, self.line + action.content)
        elif isinstance(action, A.Hotkey):
            why = hotkey_risk(action.key)
            if why:
                yield "hotkey", why, ""
            if _is_enter(action):
                yield from self._submit_risks(site, self.line)
        elif isinstance(action, A.Goto):
            yield from self._navigation_risk(action.url, "opening")
        if isinstance(action, (A.Click, A.DoubleClick)) and site.link:
            link = urlsplit(site.link)
            if link.scheme in REMOTE_SCHEMES:
                yield from self._navigation_risk(site.link, "following a link to")
            if site.download or link.path.lower().endswith(DOWNLOAD_SUFFIXES):
                name = link.path.rsplit("/", 1)[-1] or site.link
                yield "download", f"downloading {name}", f"download:{site.link}"
        if isinstance(action, (A.Click, A.DoubleClick)) and site.form_action:
            yield from self._submit_risks(site, "")

    def _submit_risks(self, site: Site, typed: str):
        """A form being sent (or, on a desktop, a line being entered): where to, and with which secrets."""
        destination = site.form_action or site.place
        if site.form_action:
            yield from self._navigation_risk(site.form_action, "sending a form to")
        names = set(self._placeholders(typed))
        names |= {s.name for s in self.secrets.values() for v in site.form_values if s.value in v}
        for name in sorted(names):
            yield from self._secret_risk(name, destination, "submitting")

    def _navigation_risk(self, url: str, verb: str):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in LOCAL_SCHEMES or self.allow_domains is None and scheme in REMOTE_SCHEMES:
            return
        if scheme not in REMOTE_SCHEMES:
            yield "navigation", f"{verb} a {scheme or 'relative'}: URL ({url[:100]})", ""
            return
        host = (parts.hostname or "").lower()
        if not domain_matches(host, self.allow_domains):
            allowed = ", ".join(self.allow_domains) or "nothing"
            yield "navigation", f"{verb} {url[:100]}: {host} is not in --allow-domains ({allowed})", f"host:{host}"

    def _secret_risk(self, name: str, place: str, verb: str):
        secret = self.secrets.get(name)
        if secret is None:
            return  # an unknown name fails when it is typed (reveal), with the names that exist
        domains = secret.domains or self.allow_domains or ()
        site = site_of(place)
        if not domain_matches(site, domains):
            where = f"to {site}" if site else "here"
            yield "secret", (f"{verb} the secret {{{{secret:{name}}}}} {where}, outside its domains "
                             f"({', '.join(domains) or 'none given'})"), f"secret:{name}@{site}"

    def check_request(self, url: str, navigation: bool, body: bytes | None = None) -> Verdict:
        """A request a page makes by itself (a script's redirect, a form, a beacon): the browser's backstop.

        It is denied when it carries a secret off its domains, or when it is a navigation off
        ``allow_domains``; nobody is asked here (the env reports it, and may ask afterwards).
        """
        site = site_of(url)
        for secret in self.secrets.values():
            forms = [secret.value, quote(secret.value, safe=""), quote_plus(secret.value)]
            carried = any(f in url for f in forms) or body is not None and any(f.encode() in body for f in forms)
            target = f"secret:{secret.name}@{site}"
            if carried and target not in self.approved \
                    and not domain_matches(site, secret.domains or self.allow_domains or ()):
                return Verdict("deny", "secret", f"the page sent the secret {{{{secret:{secret.name}}}}} to {site}",
                               target)
        if navigation:
            for kind, reason, target in self._navigation_risk(url, "the page tried to open"):
                if target not in self.approved:
                    return Verdict("deny", kind, reason, target)
        return Verdict("allow")

    # -- the gate ------------------------------------------------------------------------------------------
    def admit(self, action, site_of_action: Callable[[object], Site] | None = None):
        """The action to run, with secrets filled in, or :class:`ActionRefused` (the model reads why).

        ``site_of_action(action)`` tells where an action lands; it is called only when that matters.
        """
        site = Site()
        if site_of_action is not None and self.watches_pages and isinstance(
                action, (A.Click, A.DoubleClick, A.Type, A.Hotkey)):
            site = site_of_action(action)
        for verdict in self.risks(action, site):
            already = verdict.target and verdict.target in self.approved  # a yes to an earlier risk covers it
            if not already and not self.review(verdict):
                raise ActionRefused(self.refusal(verdict))
        self._track_line(action)
        return self.reveal(action)

    def review(self, verdict: Verdict) -> bool:
        """Ask the person about a risky verdict (when someone can be asked); remember a yes."""
        self.log.append(verdict)
        if verdict.decision == "ask" and self.confirm(verdict.reason):
            if verdict.target:
                self.approved.add(verdict.target)
            return True
        return False

    def refusal(self, verdict: Verdict) -> str:
        if verdict.decision == "ask":
            return f"Not done: the person said no to {verdict.reason}."
        return (f"Not done: {verdict.reason}. Risky actions are refused when nobody is there to confirm them; "
                "find another way, or use call_user() to ask the person.")

    def _track_line(self, action) -> None:
        if isinstance(action, A.Type):
            self.line = (self.line + action.content).rsplit("\n", 1)[-1]
        elif isinstance(action, (A.Click, A.DoubleClick, A.RightClick, A.Goto, A.Back)) or isinstance(
                action, A.Hotkey) and (_is_enter(action) or action.key.lower() in ("ctrl c", "escape", "esc")):
            self.line = ""

    # -- secrets -------------------------------------------------------------------------------------------
    @staticmethod
    def _placeholders(text: str) -> list[str]:
        return [m.lower() for m in PLACEHOLDER.findall(text)]

    def reveal(self, action):
        """The action as the env runs it: placeholders in typed text replaced by values. Only Type carries them."""
        if not isinstance(action, A.Type) or "{{secret:" not in action.content:
            return action

        def value(m: re.Match) -> str:
            name = m.group(1).lower()
            if name not in self.secrets:
                known = ", ".join(sorted(self.secrets)) or "none"
                raise ActionRefused(f"there is no secret named {name!r} (known secrets: {known})")
            return self.secrets[name].value

        return replace(action, content=PLACEHOLDER.sub(value, action.content))

    def split_secrets(self, text: str) -> list[tuple[str, bool]]:
        """``text`` (values filled in) cut into (piece, is a secret value) parts, so an env can enter a value
        in one go rather than key by key: a page's key logger then never sees a prefix of it."""
        values = sorted({s.value for s in self.secrets.values() if s.value in text}, key=len, reverse=True)
        if not values:
            return [(text, False)] if text else []
        pattern = re.compile("(" + "|".join(re.escape(v) for v in values) + ")")
        return [(piece, i % 2 == 1) for i, piece in enumerate(pattern.split(text)) if piece]

    def redact(self, text: str) -> str:
        """``text`` with every secret value (also URL-encoded) replaced by its placeholder."""
        if not self.secrets or not text:
            return text
        for secret in sorted(self.secrets.values(), key=lambda s: -len(s.value)):
            mark = "{{secret:" + secret.name + "}}"
            for form in {secret.value, quote(secret.value, safe=""), quote_plus(secret.value)}:
                text = text.replace(form, mark)
        return text

    def redact_observation(self, obs: Observation) -> Observation:
        """The observation with secret values replaced: texts by placeholders, pixels of elements showing one
        by a grey box (a field that shows a typed secret; password fields show dots and stay)."""
        if not self.secrets:
            return obs
        elements, boxes = [], []
        for e in obs.elements:
            text, state = self.redact(e.text), self.redact(e.state)
            if text != e.text or state != e.state:
                boxes.append(e.bbox)
                e = replace(e, text=text, state=state)
            elements.append(e)
        shot = obs.screenshot
        if boxes and shot is not None:
            shot = shot.copy()
            draw = ImageDraw.Draw(shot)
            for box in boxes:
                draw.rectangle(box, fill=(128, 128, 128))
        return replace(obs, screenshot=shot, elements=elements, url=self.redact(obs.url),
                       title=self.redact(obs.title), last_action_error=self.redact(obs.last_action_error),
                       instruction=self.redact(obs.instruction))
