"""The small Tk apps the desktop tasks run: ``python apps.py APP FOLDER``. Standard library only.

Each app reads ``FOLDER/spec.json`` (its seeded content and window position) and keeps
``FOLDER/state.json`` up to date: every widget's box in screen pixels, values, focus, open menus and dialogs.
That file is the control channel the privileged teachers read; no student ever sees it. A new token written
to ``FOLDER/sync`` makes the app handle all input already delivered before it publishes the token back.
What a person would save (a form, settings, a note, the answer of a calculation) is written where the task's
checker reads it.

There is no window manager in the sandbox, so windows are placed by their own geometry and drawn without
title bars. Insertion cursors do not blink, so a screen that shows the same thing is the same pixels.
"""

from __future__ import annotations

import json
import os
import sys
import tkinter as tk
import tkinter.font as tkfont
from pathlib import Path

FONT = ("DejaVu Sans", 11)
BIG = ("DejaVu Sans", 16)


def write_json(path: Path, data) -> None:
    """Atomic: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)


def box(w: tk.Misc) -> list[int]:
    x, y = w.winfo_rootx(), w.winfo_rooty()
    return [x, y, x + w.winfo_width(), y + w.winfo_height()]


def all_selected(w) -> bool:
    """Is the whole text of an Entry or Text widget selected (so typing replaces it)?"""
    try:
        if isinstance(w, tk.Text):
            ranges = w.tag_ranges("sel")
            return bool(ranges) and w.compare(ranges[0], "==", "1.0") and w.compare(ranges[1], ">=", "end-1c")
        return w.selection_present() and w.index("sel.first") == 0 and w.index("sel.last") == len(w.get())
    except tk.TclError:
        return False


def listbox_rows(lb: tk.Listbox) -> list[dict]:
    """The rows of a listbox whose centre is in view, with their screen boxes (the row's, and its text's)."""
    rows, x0, y0 = [], lb.winfo_rootx(), lb.winfo_rooty()
    height = lb.winfo_height()
    for i in range(lb.nearest(0), lb.size()):
        b = lb.bbox(i)
        if b is None:
            break
        x, y, w, h = b  # the row's text
        if y + h / 2 > height - 2:
            break
        if y + h / 2 < 2:
            continue
        rows.append({"index": i, "text": lb.get(i), "box": [x0 + 3, y0 + y, x0 + lb.winfo_width() - 3, y0 + y + h],
                     "text_box": [x0 + x, y0 + y, x0 + x + w, y0 + y + h]})
    return rows


class App:
    """Window, spec, state publishing and saving; each app adds ``build`` and ``state``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.spec = json.loads((folder / "spec.json").read_text())
        self.root = tk.Tk()
        self.root.title(self.spec.get("title", "App"))
        x, y = self.spec["pos"]
        self.root.geometry(f"+{x}+{y}")
        self.root.option_add("*Font", FONT)
        self.root.option_add("*insertOffTime", 0)
        # ctrl+a selects all, as on other desktops (Tk's X11 default moves to the line start)
        self.root.event_delete("<<LineStart>>", "<Control-Key-a>")
        self.root.event_add("<<SelectAll>>", "<Control-Key-a>")
        self.widgets: dict[str, tk.Misc] = {}
        self.frame = tk.Frame(self.root, padx=14, pady=12)
        self.frame.pack(fill="both", expand=True)
        self.build(self.frame)
        # State says "mapped" only once the window is drawn: wait for it to show, draw everything pending, and
        # make a round trip to the server (winfo_pointerxy), which has then drawn all that was sent before it.
        self.root.wait_visibility(self.root)
        self.root.update()
        self.root.winfo_pointerxy()
        self._published, self._sync = "", ""
        self.root.after(0, self._publish_loop)

    def build(self, frame: tk.Frame) -> None:
        raise NotImplementedError

    def state(self) -> dict:
        return {}

    def add(self, name: str, widget: tk.Misc) -> tk.Misc:
        self.widgets[name] = widget
        return widget

    def save(self, name: str, data) -> None:
        write_json(self.folder / name, data)

    def publish(self) -> None:
        try:
            focus = self.root.focus_get()
        except (KeyError, tk.TclError):  # focus in a menu or a window Tk does not name
            focus = None
        data = {
            "mapped": bool(self.root.winfo_viewable()),
            "window": box(self.root),
            "focus": next((n for n, w in self.widgets.items() if w is focus), ""),
            "widgets": {n: box(w) for n, w in self.widgets.items() if w.winfo_viewable()},
            "sync": self._sync,
            **self.state(),
        }
        text = json.dumps(data, sort_keys=True)
        if text != self._published:
            write_json(self.folder / "state.json", data)
            self._published = text

    def _publish_loop(self) -> None:
        # A task asks for state that reflects every input sent so far by writing a new token to FOLDER/sync:
        # update() handles all the events the X server has already delivered, then the state carries the token.
        try:
            token = (self.folder / "sync").read_text()
        except OSError:
            token = ""
        if token and token != self._sync:
            self.root.update()
            self._sync = token
        self.publish()
        self.root.after(25, self._publish_loop)

    def run(self) -> None:
        self.root.mainloop()


class FormApp(App):
    """Labelled text fields and a Save button that writes form.json."""

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).grid(row=0, column=0, columnspan=2, pady=(0, 10), sticky="w")
        self.entries = {}
        for i, field in enumerate(self.spec["fields"], start=1):
            tk.Label(f, text=field["label"] + ":").grid(row=i, column=0, sticky="e", padx=(0, 8), pady=5)
            e = self.add(f"field:{field['key']}", tk.Entry(f, width=24))
            e.grid(row=i, column=1, pady=5)
            self.entries[field["key"]] = e
        row = len(self.spec["fields"]) + 1
        self.add("save", tk.Button(f, text="Save", width=8, command=self.on_save)).grid(
            row=row, column=1, sticky="e", pady=(12, 0))

    def on_save(self):
        self.save("form.json", {k: e.get() for k, e in self.entries.items()})

    def state(self):
        return {"values": {k: e.get() for k, e in self.entries.items()},
                "selected_all": {k: all_selected(e) for k, e in self.entries.items()}}


class SettingsApp(App):
    """Checkboxes and one radio group; Apply writes settings.json."""

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).pack(anchor="w", pady=(0, 8))
        self.checks = {}
        for c in self.spec["checks"]:
            var = tk.BooleanVar(value=c["value"])
            self.add(f"check:{c['key']}", tk.Checkbutton(f, text=c["label"], variable=var, anchor="w")).pack(
                anchor="w", pady=2)
            self.checks[c["key"]] = var
        group = self.spec["radio"]
        tk.Label(f, text=group["label"] + ":").pack(anchor="w", pady=(10, 2))
        row = tk.Frame(f)
        row.pack(anchor="w")
        self.choice = tk.StringVar(value=group["value"])
        for option in group["options"]:
            self.add(f"radio:{option}", tk.Radiobutton(row, text=option, value=option, variable=self.choice)).pack(
                side="left", padx=(0, 10))
        self.add("apply", tk.Button(f, text="Apply", width=8, command=self.on_apply)).pack(anchor="e", pady=(14, 0))

    def values(self):
        return {"checks": {k: v.get() for k, v in self.checks.items()}, "radio": self.choice.get()}

    def on_apply(self):
        self.save("settings.json", self.values())

    def state(self):
        return self.values()


class ListApp(App):
    """A list (with an optional filter box) and a button; the chosen item is written to chosen.json.

    spec: items, rows (visible rows), filter (bool), double_click (bool: a double-click opens an item),
    button (its label).
    """

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).pack(anchor="w", pady=(0, 8))
        self.items = list(self.spec["items"])
        self.query = tk.StringVar()
        if self.spec.get("filter"):
            row = tk.Frame(f)
            row.pack(fill="x", pady=(0, 6))
            tk.Label(row, text="Filter:").pack(side="left", padx=(0, 6))
            self.add("filter", tk.Entry(row, textvariable=self.query, width=22)).pack(side="left")
            self.query.trace_add("write", lambda *_: self.refill())
        body = tk.Frame(f)
        body.pack(fill="both")
        self.list = self.add("list", tk.Listbox(body, height=self.spec["rows"], width=26, exportselection=False,
                                                activestyle="none"))
        bar = tk.Scrollbar(body, command=self.list.yview)
        self.list.configure(yscrollcommand=bar.set)
        self.list.pack(side="left")
        bar.pack(side="left", fill="y")
        if self.spec.get("double_click"):
            self.list.bind("<Double-Button-1>", self.on_double)
        self.add("button", tk.Button(f, text=self.spec["button"], width=8, command=self.on_button)).pack(
            anchor="e", pady=(10, 0))
        self.refill()

    def shown(self):
        q = self.query.get().strip().lower()
        return [s for s in self.items if q in s.lower()]

    def refill(self):
        self.list.delete(0, "end")
        for s in self.shown():
            self.list.insert("end", s)

    def selected(self):
        sel = self.list.curselection()
        return self.list.get(sel[0]) if sel else ""

    def on_double(self, event):
        i = self.list.nearest(event.y)
        if 0 <= i < self.list.size():
            self.save("chosen.json", {"item": self.list.get(i), "how": "double-click"})

    def on_button(self):
        if self.selected():
            self.save("chosen.json", {"item": self.selected(), "how": "button"})

    def state(self):
        return {"filter": self.query.get(), "filter_selected_all": all_selected(self.widgets["filter"])
                if "filter" in self.widgets else False, "shown": self.shown(), "selected": self.selected(),
                "rows": listbox_rows(self.list)}


class SortApp(App):
    """A list with Move up / Move down buttons; Done writes order.json."""

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 8))
        self.list = self.add("list", tk.Listbox(f, height=len(self.spec["items"]), width=20, exportselection=False,
                                                activestyle="none"))
        for s in self.spec["items"]:
            self.list.insert("end", s)
        self.list.grid(row=1, column=0, rowspan=3, padx=(0, 12))
        self.add("up", tk.Button(f, text="Move up", width=10, command=lambda: self.move(-1))).grid(row=1, column=1)
        self.add("down", tk.Button(f, text="Move down", width=10, command=lambda: self.move(1))).grid(row=2, column=1)
        self.add("done", tk.Button(f, text="Done", width=10, command=self.on_done)).grid(row=3, column=1, sticky="s")

    def order(self):
        return list(self.list.get(0, "end"))

    def move(self, step):
        sel = self.list.curselection()
        if not sel:
            return
        i, j = sel[0], sel[0] + step
        if not 0 <= j < self.list.size():
            return
        text = self.list.get(i)
        self.list.delete(i)
        self.list.insert(j, text)
        self.list.selection_set(j)

    def on_done(self):
        self.save("order.json", {"order": self.order()})

    def state(self):
        sel = self.list.curselection()
        return {"order": self.order(), "selected": sel[0] if sel else -1, "rows": listbox_rows(self.list)}


class DragApp(App):
    """Cards on a canvas, reordered by dragging one onto another's slot; Done writes order.json."""

    ROW, WIDTH = 40, 260

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).pack(anchor="w", pady=(0, 8))
        self.order = list(self.spec["items"])
        self.canvas = self.add("cards", tk.Canvas(f, width=self.WIDTH, height=self.ROW * len(self.order),
                                                  highlightthickness=0, background="#f4f4f4"))
        self.canvas.pack()
        self.canvas.bind("<ButtonPress-1>", self.on_press)
        self.canvas.bind("<B1-Motion>", self.on_motion)
        self.canvas.bind("<ButtonRelease-1>", self.on_release)
        self.dragging, self.last_y = None, 0
        self.add("done", tk.Button(f, text="Done", width=8, command=self.on_done)).pack(anchor="e", pady=(10, 0))
        self.draw()

    def draw(self):
        self.canvas.delete("all")
        for i, text in enumerate(self.order):
            tag = f"card{i}"
            self.canvas.create_rectangle(4, i * self.ROW + 3, self.WIDTH - 4, (i + 1) * self.ROW - 3,
                                         fill="#dce8f7", outline="#7a9cc6", tags=tag)
            self.canvas.create_text(16, i * self.ROW + self.ROW // 2, text=text, anchor="w", font=FONT, tags=tag)

    def on_press(self, e):
        i = e.y // self.ROW
        if 0 <= i < len(self.order):
            self.dragging, self.last_y = i, e.y
            self.canvas.tag_raise(f"card{i}")

    def on_motion(self, e):
        if self.dragging is not None:
            self.canvas.move(f"card{self.dragging}", 0, e.y - self.last_y)
            self.last_y = e.y

    def on_release(self, e):
        if self.dragging is None:
            return
        target = min(max(e.y // self.ROW, 0), len(self.order) - 1)
        self.order.insert(target, self.order.pop(self.dragging))
        self.dragging = None
        self.draw()

    def on_done(self):
        self.save("order.json", {"order": self.order})

    def state(self):
        x0, y0 = self.canvas.winfo_rootx(), self.canvas.winfo_rooty()
        cards = [{"text": t, "box": [x0 + 4, y0 + i * self.ROW + 3, x0 + self.WIDTH - 4, y0 + (i + 1) * self.ROW - 3]}
                 for i, t in enumerate(self.order)]
        return {"order": self.order, "cards": cards, "dragging": self.dragging is not None}


class EditorApp(App):
    """A text editor on one file; ctrl+s saves it (a real file the checker reads)."""

    def build(self, f):
        self.path = self.folder / self.spec["file"]
        tk.Label(f, text=f"{self.spec['file']}  (Ctrl+S saves)", anchor="w").pack(fill="x", pady=(0, 6))
        self.text = self.add("text", tk.Text(f, width=44, height=8, wrap="word", undo=True))
        self.text.pack()
        self.text.insert("1.0", self.spec.get("initial", ""))
        self.status = tk.Label(f, text="Not saved", anchor="w", foreground="#555")
        self.status.pack(fill="x", pady=(6, 0))
        self.root.bind_all("<Control-Key-s>", self.on_save)

    def content(self):
        return self.text.get("1.0", "end-1c")

    def on_save(self, _event=None):
        self.path.write_text(self.content())
        self.status.configure(text=f"Saved {len(self.content())} characters")
        return "break"

    def state(self):
        return {"content": self.content(), "selected_all": all_selected(self.text)}


class CalcApp(App):
    """A four-function calculator (integers); '=' appends the calculation to calc.json."""

    KEYS = [["7", "8", "9", "×"], ["4", "5", "6", "-"], ["1", "2", "3", "+"], ["C", "0", "="]]

    def build(self, f):
        self.expr, self.history = "", []
        self.display = self.add("display", tk.Label(f, text="0", font=BIG, anchor="e", width=12, relief="sunken",
                                                    background="white", padx=8))
        self.display.grid(row=0, column=0, columnspan=4, sticky="we", pady=(0, 8))
        for r, row in enumerate(self.KEYS, start=1):
            for c, key in enumerate(row):
                b = tk.Button(f, text=key, width=4, font=BIG, command=lambda k=key: self.press(k))
                self.add(f"key:{key}", b).grid(row=r, column=c, padx=2, pady=2)

    def press(self, key):
        if key == "C":
            self.expr = ""
        elif key == "=":
            result = evaluate(self.expr)
            if result is not None:
                self.history.append({"expression": self.expr, "result": result})
                self.save("calc.json", {"history": self.history})
                self.expr = ""
                self.display.configure(text=result)
                return
        elif key.isdigit():
            self.expr += key
        elif self.expr and self.expr[-1].isdigit() and not any(op in self.expr for op in "+-×"):
            self.expr += key
        self.display.configure(text=self.expr or "0")

    def state(self):
        return {"expr": self.expr, "display": self.display.cget("text")}


def evaluate(expr: str) -> str | None:
    """'37+58' -> '95'; None unless the expression is number, operator, number."""
    for op in "+-×":
        left, sep, right = expr.partition(op)
        if sep and left.isdigit() and right.isdigit():
            a, b = int(left), int(right)
            return str(a + b if op == "+" else a - b if op == "-" else a * b)
    return None


class TodoApp(App):
    """A to-do list; each item's right-click menu marks it done or deletes it. Changes go to todo.json."""

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).pack(anchor="w", pady=(0, 8))
        self.items = [{"text": t, "done": False} for t in self.spec["items"]]
        self.rows = tk.Frame(f)
        self.rows.pack(fill="x")
        self.menu = tk.Menu(self.root, tearoff=0)
        self.menu.add_command(label="Mark as done", command=lambda: self.change("done"))
        self.menu.add_command(label="Delete", command=lambda: self.change("delete"))
        self.menu_for = None
        tk.Label(f, text="Right-click an item for its actions.", foreground="#555").pack(anchor="w", pady=(10, 0))
        self.draw()

    def draw(self):
        for w in self.rows.winfo_children():
            w.destroy()
        self.labels = []
        for i, item in enumerate(self.items):
            font = ("DejaVu Sans", 11, "overstrike") if item["done"] else FONT
            label = tk.Label(self.rows, text=item["text"], font=font, anchor="w", width=24, padx=6, pady=4,
                             background="#eef2f7" if i % 2 else "#ffffff",
                             foreground="#888" if item["done"] else "#000")
            label.pack(fill="x")
            label.bind("<Button-3>", lambda e, i=i: self.popup(e, i))
            self.labels.append(label)

    def popup(self, event, i):
        self.menu_for = i
        self.menu.tk_popup(event.x_root + 2, event.y_root + 2)

    def change(self, what):
        i, self.menu_for = self.menu_for, None
        if i is None:
            return
        if what == "done":
            self.items[i]["done"] = True
        else:
            del self.items[i]
        self.draw()
        self.save("todo.json", {"items": self.items})

    def state(self):
        menu = {"posted": bool(self.menu.winfo_ismapped()), "item": None, "entries": []}
        if menu["posted"] and self.menu_for is not None:
            menu["item"] = self.items[self.menu_for]["text"]
            x0, y0 = self.menu.winfo_rootx(), self.menu.winfo_rooty()
            w, h = self.menu.winfo_width(), self.menu.winfo_height()
            last = self.menu.index("end")
            for k in range(last + 1):
                top = self.menu.yposition(k)
                bottom = self.menu.yposition(k + 1) if k < last else h - 2
                label = self.menu.entrycget(k, "label")
                width = tkfont.Font(font=str(self.menu.cget("font"))).measure(label)
                menu["entries"].append({"label": label, "box": [x0 + 2, y0 + top, x0 + w - 2, y0 + bottom],
                                        "text_box": [x0 + 2, y0 + top, x0 + 2 + width, y0 + bottom]})
        rows = []
        for it, lb in zip(self.items, self.labels):
            x0, y0, x1, y1 = box(lb)
            left = x0 + sum(int(lb.winfo_fpixels(str(lb.cget(k)))) for k in ("padx", "borderwidth"))
            width = tkfont.Font(font=str(lb.cget("font"))).measure(it["text"])
            rows.append({"text": it["text"], "done": it["done"], "box": [x0, y0, x1, y1],
                         "text_box": [left, y0, left + width, y1]})
        return {"items": rows, "menu": menu}


class FilesApp(App):
    """A file manager over FOLDER/home: select a file, Delete, confirm in a dialog (the file is removed)."""

    def build(self, f):
        self.home = self.folder / "home"
        tk.Label(f, text=self.spec["heading"], font=BIG).pack(anchor="w", pady=(0, 8))
        self.list = self.add("list", tk.Listbox(f, height=self.spec["rows"], width=28, exportselection=False,
                                                activestyle="none"))
        self.list.pack()
        self.add("delete", tk.Button(f, text="Delete", width=8, command=self.ask)).pack(anchor="e", pady=(10, 0))
        self.dialog, self.asking = None, ""
        self.refill()

    def files(self):
        return sorted(p.name for p in self.home.iterdir() if p.is_file())

    def refill(self):
        self.list.delete(0, "end")
        for name in self.files():
            self.list.insert("end", name)

    def ask(self):
        sel = self.list.curselection()
        if not sel or self.dialog is not None:
            return
        self.asking = self.list.get(sel[0])
        d = self.dialog = tk.Toplevel(self.root, padx=16, pady=12, relief="raised", borderwidth=2)
        d.geometry(f"+{self.root.winfo_rootx() + 40}+{self.root.winfo_rooty() + 90}")
        tk.Label(d, text=f"Delete {self.asking}?", font=BIG).pack(pady=(0, 10))
        row = tk.Frame(d)
        row.pack()
        for name, text, yes in (("yes", "Yes", True), ("no", "No", False)):
            button = tk.Button(row, text=text, width=6, command=lambda yes=yes: self.answer(yes))
            self.add(name, button).pack(side="left", padx=6)
        d.transient(self.root)
        d.focus_force()

    def answer(self, yes):
        if yes:
            (self.home / self.asking).unlink(missing_ok=True)
        self.dialog.destroy()
        self.dialog, self.asking = None, ""
        for name in ("yes", "no"):
            self.widgets.pop(name, None)
        self.refill()

    def state(self):
        sel = self.list.curselection()
        return {"files": list(self.list.get(0, "end")), "selected": self.list.get(sel[0]) if sel else "",
                "rows": listbox_rows(self.list), "dialog": self.asking if self.dialog is not None else ""}


class SliderApp(App):
    """A horizontal 0-100 slider and OK, which writes slider.json."""

    def build(self, f):
        tk.Label(f, text=self.spec["heading"], font=BIG).pack(anchor="w", pady=(0, 8))
        self.scale = self.add("slider", tk.Scale(f, from_=0, to=100, orient="horizontal", length=300,
                                                 label=self.spec["label"], resolution=1))
        self.scale.set(self.spec["value"])
        self.scale.pack()
        self.add("ok", tk.Button(f, text="OK", width=8, command=self.on_ok)).pack(anchor="e", pady=(10, 0))

    def on_ok(self):
        self.save("slider.json", {"value": int(self.scale.get())})

    def state(self):
        x0, y0 = self.scale.winfo_rootx(), self.scale.winfo_rooty()
        coords = [[x0 + int(x), y0 + int(y)] for x, y in (self.scale.coords(v) for v in range(101))]
        return {"value": int(self.scale.get()), "coords": coords}


APPS = {"form": FormApp, "settings": SettingsApp, "list": ListApp, "sort": SortApp, "drag": DragApp,
        "editor": EditorApp, "calc": CalcApp, "todo": TodoApp, "files": FilesApp, "slider": SliderApp}

if __name__ == "__main__":
    APPS[sys.argv[1]](Path(sys.argv[2])).run()
