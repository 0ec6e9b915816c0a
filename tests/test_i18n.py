"""The studio in English and Simplified Chinese: the browser's language picks one, the header's switcher
overrides it (before logging in too), and the committed catalogue is complete and compiled.

The catalogue is checked without GNU gettext, which CI machines may not have: django.po is read with a few
lines of Python and compared with the committed django.mo, entry by entry."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.test import Client, SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import translation

from sorastudio.studio.browser_text import browser_text
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.helpers import VALID, make_member, make_row

LOCALE = Path(settings.BASE_DIR) / "sorastudio" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"
TEMPLATES = Path(settings.BASE_DIR) / "templates"

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


# --- Reading the catalogue ---------------------------------------------------------------------------------


@dataclass
class Entry:
    msgctxt: str | None
    msgid: str
    msgid_plural: str | None
    msgstr: list[str]  # one per plural form
    flags: set[str]  # "fuzzy", "python-format"…


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file. Obsolete (#~) entries are left out, as msgfmt does."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        current = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line):
                current = match.group(1)
                fields[current] = _unquote(match.group(2))
            elif line.startswith('"'):
                fields[current] += _unquote(line)
        if "msgid" not in fields:
            continue
        plural = sorted((k for k in fields if k.startswith("msgstr[")), key=lambda k: int(k[7:-1]))
        entries.append(
            Entry(
                msgctxt=fields.get("msgctxt"),
                msgid=fields["msgid"],
                msgid_plural=fields.get("msgid_plural"),
                msgstr=[fields[k] for k in plural] if plural else [fields.get("msgstr", "")],
                flags=flags,
            )
        )
    return entries


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)


def compile_po(entries: list[Entry]) -> dict[bytes, bytes]:
    """What msgfmt would put in the .mo for these entries: original string -> translation, as bytes."""
    catalogue: dict[bytes, bytes] = {}
    for entry in entries:
        msgstr = entry.msgstr
        if (entry.msgid and "fuzzy" in entry.flags) or not all(msgstr):
            continue  # msgfmt leaves these out (the tests make sure there are none)
        key = entry.msgid
        if not key:  # the header, which msgfmt copies without the template's creation date
            msgstr = [re.sub(r"^POT-Creation-Date: .*\n", "", msgstr[0], flags=re.M)]
        if entry.msgctxt is not None:
            key = f"{entry.msgctxt}\x04{key}"
        if entry.msgid_plural is not None:
            key += f"\x00{entry.msgid_plural}"
        catalogue[key.encode()] = "\x00".join(msgstr).encode()
    return catalogue


def read_mo(path: Path) -> dict[bytes, bytes]:
    """The raw pairs of a compiled GNU .mo file."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _, count, originals, translations = struct.unpack(f"{order}4I", data[4:20])
    pairs: dict[bytes, bytes] = {}
    for n in range(count):
        length, offset = struct.unpack(f"{order}2I", data[originals + 8 * n : originals + 8 * n + 8])
        key = data[offset : offset + length]
        length, offset = struct.unpack(f"{order}2I", data[translations + 8 * n : translations + 8 * n + 8])
        pairs[key] = data[offset : offset + length]
    return pairs


PLACEHOLDER = re.compile(r"%(?:\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdfir]|%)")


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text) if match.group(0) != "%%")


# --- The pages ---------------------------------------------------------------------------------------------


class I18nTestCase(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Harbour")
        self.alice = make_member("alice", self.team)
        self.client.force_login(self.alice)

    def studio(self, **headers: str) -> str:
        response = self.client.get(reverse("studio:index"), **headers)  # type: ignore[arg-type]
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    @staticmethod
    def scripts_text(html: str) -> dict[str, str]:
        match = re.search(r'<script id="studio-i18n" type="application/json">(.*?)</script>', html, re.S)
        assert match, "the page carries no messages for its scripts"
        messages: dict[str, str] = json.loads(match.group(1))
        return messages


class BrowserLanguageTests(I18nTestCase):
    def test_it_speaks_chinese_when_the_browser_asks_for_it(self) -> None:
        html = self.studio(**CHINESE)
        self.assertIn('<html lang="zh-hans">', html)
        self.assertIn("<h1>新建视频</h1>", html)
        self.assertIn('<button type="submit" class="primary">生成视频</button>', html)
        self.assertIn('<label for="id_prompt">描述视频</label>', html)
        self.assertIn('<label for="id_duration">时长</label>', html)
        # 25 seconds is shown with Sora 2, disabled, with its reason in Chinese.
        self.assertIn(
            '<option value="25" disabled title="25 秒需要 Sora 2 Pro">25 秒 — 25 秒需要 Sora 2 Pro</option>',
            html,
        )
        self.assertIn("Harbour 的作品库", html)
        self.assertIn("还没有视频。", html)
        self.assertIn(">模拟器</span>", html)
        self.assertNotIn("Generate video", html)
        self.assertNotIn("25 seconds needs Sora 2 Pro", html)

    def test_it_hands_the_scripts_their_messages_in_the_page_language(self) -> None:
        chinese = self.scripts_text(self.studio(**CHINESE))
        self.assertEqual(chinese["theme.auto"], "主题：自动")
        self.assertEqual(chinese["images.tooManyV2One"], "2.0 版本只使用一张图片：生成前请移除一张。")
        self.assertEqual(chinese["clip.play"], "播放标记部分")
        english = self.scripts_text(self.studio())
        self.assertEqual(english["theme.auto"], "Theme: auto")
        self.assertEqual(
            english["clip.marked"],
            "Marked: %(start)s s to %(end)s s (%(span)s s). “Play the marked part” to check it.",
        )
        self.assertEqual(set(english), set(chinese))

    def test_it_stays_english_by_default_and_for_other_languages(self) -> None:
        for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}, {"HTTP_ACCEPT_LANGUAGE": "en-GB"}):
            with self.subTest(headers=headers):
                html = self.studio(**headers)
                self.assertIn('<html lang="en">', html)
                self.assertIn("<h1>New video</h1>", html)
                self.assertIn("Generate video", html)
                self.assertIn("25 seconds — 25 seconds needs Sora 2 Pro", html)
                self.assertNotIn("生成视频", html)

    def test_it_translates_the_options_that_follow_a_switch_of_version(self) -> None:
        response = self.client.get(
            reverse("studio:compose_options"),
            {**VALID, "version": "2.0", "duration": "15"},
            headers={"HX-Request": "true", "HX-Target": "options"},
            **CHINESE,  # type: ignore[arg-type]
        )
        html = response.content.decode()
        self.assertIn("时长已从 15 秒改为 12 秒：15 秒是 1.0 版本的时长。", html)
        self.assertIn("尺寸已从 标准 改为 1280 × 720（横屏）：2.0 版本改用像素尺寸。", html)
        self.assertIn("裁剪以填满画面", html)


class SwitcherTests(TestCase):
    def switch(self, client: Client, language: str, next_url: str) -> None:
        response = client.post(reverse("set_language"), {"language": language, "next": next_url})
        self.assertRedirects(response, next_url, fetch_redirect_response=False)
        self.assertEqual(client.cookies[settings.LANGUAGE_COOKIE_NAME].value, language)

    def test_it_switches_before_logging_in_and_the_choice_sticks(self) -> None:
        make_member("alice", Team.objects.create(name="Harbour"))
        client = Client()
        login = reverse("login") + "?next=/"
        page = client.get(login).content.decode()
        self.assertIn('<option value="zh-hans" lang="zh-hans">简体中文</option>', page)
        self.assertIn(f'action="{reverse("set_language")}"', page)

        self.switch(client, "zh-hans", login)
        # The cookie wins over what the browser asks for, on every page that follows.
        page = client.get(login, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn('<html lang="zh-hans">', page)
        self.assertIn("<h1>登录</h1>", page)
        self.assertIn('<label for="id_username">用户名</label>', page)
        self.assertIn('<option value="zh-hans" lang="zh-hans" selected>简体中文</option>', page)
        refused = client.post(login, {"username": "alice", "password": "wrong"}).content.decode()
        self.assertIn("用户名和密码不匹配，请重试。", refused)

        response = client.post(login, {"username": "alice", "password": "alice-pass-123", "next": "/"})
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        studio = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn("<h1>新建视频</h1>", studio)
        self.assertIn(">退出登录</button>", studio)

        self.switch(client, "en", "/")
        studio = client.get("/", **CHINESE).content.decode()  # type: ignore[arg-type]
        self.assertIn('<html lang="en">', studio)
        self.assertIn("<h1>New video</h1>", studio)


class RefusalTests(I18nTestCase):
    def post(self, **overrides: str) -> str:
        response = self.client.post(reverse("studio:generate"), {**VALID, **overrides}, **CHINESE)  # type: ignore[arg-type]
        self.assertEqual(response.status_code, 400)
        return response.content.decode()

    def test_it_refuses_in_chinese_beside_the_field(self) -> None:
        html = self.post(prompt="")
        self.assertIn('<p class="error" id="err-prompt">请描述你想要的视频。</p>', html)
        html = self.post(image_urls="not a url")
        self.assertIn(
            '<p class="error" id="err-image_urls">“not a url”不是网址（应以 https:// 开头）。</p>', html
        )
        html = self.post(duration="25")
        self.assertIn('<p class="error" id="err-duration">25 秒需要 Sora 2 Pro。</p>', html)
        html = self.post(character_url="https://example.com/c.mp4", character_start="1", character_end="7")
        self.assertIn(
            '<p class="error" id="err-character_end">片段中的角色部分须持续 1 到 3 秒（当前为 6 秒）。</p>',
            html,
        )
        self.assertEqual(Generation.objects.count(), 0)

    def test_it_keeps_the_english_refusal_for_english(self) -> None:
        response = self.client.post(reverse("studio:generate"), {**VALID, "prompt": ""})
        self.assertContains(
            response, '<p class="error" id="err-prompt">Describe the video you want.</p>', status_code=400
        )


class FailedCardTests(I18nTestCase):
    def failed(self) -> Generation:
        return make_row(
            self.team,
            self.alice,
            "A real person waving",
            orientation="landscape",
            state=State.FAILED,
            error_code="content_policy_violation",
            error_message="Prompt rejected: it may depict a real person.",
            trace_id="trace-123",
        )

    def test_it_explains_a_failure_in_chinese_and_quotes_the_service_as_it_said_it(self) -> None:
        generation = self.failed()
        html = self.studio(**CHINESE)
        self.assertIn("<strong>失败</strong>", html)
        self.assertIn(
            "<p>视频被拒绝了，因为提示词或参考素材似乎包含真实人物或受保护的品牌。请改为描述一个虚构的角色，然后重试。</p>",
            html,
        )
        # The upstream's own words are not the studio's to translate.
        self.assertIn("服务返回：“Prompt rejected: it may depict a real person.”", html)
        self.assertIn("<dt>错误代码</dt><dd><code>content_policy_violation</code></dd>", html)
        self.assertIn("Sora 2 · v1.0 · 10 秒 · 标准 · 横屏", html)
        self.assertIn(">重新生成</button>", html)
        self.assertIn(">编辑并重试</a>", html)

        page = self.client.get(generation.get_absolute_url(), **CHINESE).content.decode()  # type: ignore[arg-type]
        self.assertIn("<dt>时长</dt><dd>10 秒</dd>", page)
        self.assertIn("<dt>方向</dt><dd>横屏</dd>", page)
        self.assertIn("<h2>时间线</h2>", page)

    def test_it_explains_the_same_failure_in_english_by_default(self) -> None:
        self.failed()
        html = self.studio()
        self.assertIn("<strong>Failed</strong>", html)
        self.assertIn("seems to show a real person", html)
        self.assertIn("Sora 2 · v1.0 · 10 s · Standard · landscape", html)


# --- The catalogue ---------------------------------------------------------------------------------------


class CatalogueTests(SimpleTestCase):
    def test_it_translates_every_entry_and_leaves_nothing_fuzzy(self) -> None:
        entries = read_po(PO)
        header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
        self.assertIn("Plural-Forms: nplurals=1; plural=0;", header.msgstr[0])
        self.assertNotIn("fuzzy", header.flags)
        messages = [e for e in entries if e is not header]
        self.assertGreater(len(messages), 250)
        kept_as_they_are = (
            "Sora 2 Pro",
            "AceDataCloud",
            "Sora2API",
            "PUBLIC_BASE_URL",
            "<strong>",
            "<button",
        )
        for entry in messages:
            with self.subTest(msgid=entry.msgid, msgctxt=entry.msgctxt):
                self.assertNotIn("fuzzy", entry.flags)
                self.assertEqual(len(entry.msgstr), 1)  # Chinese has one plural form
                translated = entry.msgstr[0]
                self.assertTrue(translated.strip(), "not translated")
                source = entry.msgid_plural or entry.msgid
                self.assertEqual(placeholders(translated), placeholders(source))
                for kept in kept_as_they_are:
                    if kept in source:
                        self.assertIn(kept, translated)

    def test_it_ships_a_compiled_catalogue_that_matches_the_po(self) -> None:
        # Fails when the .po was changed (by hand or by makemessages) and compilemessages was forgotten.
        self.assertTrue(MO.exists(), "run manage.py compilemessages and commit django.mo")
        compiled, expected = read_mo(MO), compile_po(read_po(PO))
        self.assertEqual(
            sorted(compiled), sorted(expected), "django.mo is not django.po: run compilemessages"
        )
        for key, translated in expected.items():
            with self.subTest(msgid=key.decode()):
                self.assertEqual(compiled[key].decode(), translated.decode(), "run compilemessages")

    def test_it_has_every_template_string_in_the_catalogue(self) -> None:
        # Fails when a template gained a {% translate %} and makemessages was forgotten.
        known = {e.msgid for e in read_po(PO)}
        literal = re.compile(r'{%\s*translate\s+"((?:[^"\\]|\\.)*)"|_\("((?:[^"\\]|\\.)*)"\)')
        for template in sorted(TEMPLATES.rglob("*.html")):
            for match in literal.finditer(template.read_text(encoding="utf-8")):
                text = match.group(1) or match.group(2)
                with self.subTest(template=template.name, text=text):
                    self.assertIn(text, known)

    def test_it_gives_the_scripts_a_translation_for_every_message(self) -> None:
        with translation.override("en"):
            english = browser_text()
        with translation.override("zh-hans"):
            chinese = browser_text()
        for key, text in english.items():
            with self.subTest(key=key):
                self.assertNotEqual(chinese[key], text)
                self.assertEqual(placeholders(chinese[key]), placeholders(text))

    def test_it_loads_the_catalogue_through_django(self) -> None:
        with translation.override("zh-hans"):
            self.assertEqual(translation.gettext("Generate video"), "生成视频")
            self.assertEqual(translation.pgettext("state of a video", "Ready"), "已完成")
            self.assertEqual(
                translation.ngettext("%(counter)s variation", "%(counter)s variations", 4),
                "%(counter)s 个变体",
            )
