#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Parse an HTML report (keytrail's output, or the DOM chromium serialised after loading it) and
# print what the tests check, as JSON: the timeline's marks by class, the sections' rows, the
# host names as the page shows them, and anything that would load or run something.
#   html-facts.py FILE
import json
import sys
from html.parser import HTMLParser

ACTIVE_TAGS = {"script", "img", "iframe", "object", "embed", "link", "audio", "video", "source",
               "frame", "base", "form", "input", "image", "use", "foreignobject"}


class Facts(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.f = {"marks": {}, "legend_marks": 0, "timeline_svgs": 0, "host_bands": [],
                  "lanes": 0, "hosts": [], "key_sections": 0, "alert_rows": 0,
                  "event_rows": 0, "active": [], "csp": None, "title": None, "doctype": None}
        self.stack = []       # open elements: (tag, attrs)
        self.text_of = None   # (name, tag) while collecting the text of an element
        self.buf = ""

    def inside(self, pred):
        return any(pred(t, a) for t, a in self.stack)

    def handle_decl(self, decl):
        self.f["doctype"] = decl

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        for k, v in attrs:
            if k.startswith("on") or k in ("src", "srcset", "formaction", "action", "background") or \
                    (k in ("href", "xlink:href") and not (v or "").startswith("#")) or \
                    (k == "style" and "url(" in (v or "")):
                self.f["active"].append(f"{tag} {k}={v}")
        if tag in ACTIVE_TAGS:
            self.f["active"].append(tag)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.f["csp"] = a.get("content")
        in_timeline = self.inside(lambda t, x: t == "svg" and x.get("role") == "img")
        if tag == "svg" and a.get("role") == "img":
            self.f["timeline_svgs"] += 1
        for c in cls:
            if c.startswith("m-"):
                if in_timeline:
                    self.f["marks"][c] = self.f["marks"].get(c, 0) + 1
                else:
                    self.f["legend_marks"] += 1
        if in_timeline and tag == "line" and "lane" in cls:
            self.f["lanes"] += 1
        if in_timeline and tag == "text" and "host" in cls:
            self.text_of = ("host_bands", tag)
            self.buf = ""
        if tag == "h3" and self.inside(lambda t, x: t == "section" and x.get("id") == "keys"):
            self.text_of = ("hosts", tag)
            self.buf = ""
        if tag == "title" and not self.stack_has("svg"):
            self.text_of = ("title", tag)
            self.buf = ""
        if tag == "div" and "key" in cls:
            self.f["key_sections"] += 1
        if tag == "tr" and (a.get("id") or "").startswith("a-"):
            self.f["alert_rows"] += 1
        if tag == "tr" and self.inside(lambda t, x: t == "tbody") and \
                self.inside(lambda t, x: t == "section" and x.get("id") == "events"):
            self.f["event_rows"] += 1
        if tag not in ("meta", "br", "line", "circle", "path", "rect", "col", "hr", "wbr"):
            self.stack.append((tag, a))

    def stack_has(self, tag):
        return any(t == tag for t, _ in self.stack)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self.text_of and tag == self.text_of[1]:
            name = self.text_of[0]
            if name == "title":
                self.f["title"] = self.buf
            else:
                self.f[name].append(self.buf)
            self.text_of = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.text_of:
            self.buf += data


p = Facts()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
print(json.dumps(p.f, indent=1, sort_keys=True))
