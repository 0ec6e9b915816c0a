"""In Chromium: switch the studio to Simplified Chinese with the header's switcher, use it in Chinese (the
form, a refused choice, the scripts' own messages, a video made by the real queue worker) and switch back."""

from __future__ import annotations

import pytest

from tests.browser import QUICK, BrowserTestCase, expect


@pytest.mark.browser
class TestChinese(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Harbour")

    def test_it_switches_to_chinese_makes_a_video_and_switches_back(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        expect(page.locator("html")).to_have_attribute("lang", "en")

        # The header's switcher sends the choice at once (no button with scripts on) and the page comes back.
        page.get_by_label("Language").select_option("zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans", timeout=QUICK)
        expect(page).to_have_url(f"{self.live_server_url}/")
        expect(page.get_by_role("heading", name="新建视频")).to_be_visible()
        expect(page.get_by_role("heading", name="Harbour 的作品库")).to_be_visible()
        expect(page.get_by_label("语言")).to_have_value("zh-hans")

        # A refused choice says why, in Chinese; Sora 2 Pro makes it possible.
        model, length = page.get_by_label("模型", exact=True), page.get_by_label("时长")
        longest = length.locator("option[value='25']")
        expect(longest).to_be_disabled()
        expect(longest).to_have_text("25 秒 — 25 秒需要 Sora 2 Pro")
        model.select_option("sora-2-pro")
        expect(longest).to_be_enabled(timeout=QUICK)
        expect(longest).to_have_text("25 秒")

        # The scripts speak Chinese too: the theme button, and a file the images picker refuses.
        theme = page.locator("[data-theme-toggle]")
        expect(theme).to_have_text("主题：自动")
        theme.click()
        expect(theme).to_have_text("主题：深色")
        expect(theme).to_have_attribute("aria-label", "配色主题：深色")
        theme.click()
        theme.click()
        expect(theme).to_have_text("主题：自动")
        page.locator("#id_images").set_input_files(
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}
        )
        expect(page.locator("[data-images-message]")).to_have_text(
            "notes.txt 不是 PNG、JPEG 或 WebP 图片，因此未添加。请使用 PNG、JPEG 或 WebP 图片。"
        )

        # A video, made in Chinese.
        length.select_option("10")
        page.get_by_label("描述视频").fill("A paper lantern drifting down a quiet canal")
        card = page.locator(f"#card-{self.submitted(page, '生成视频')[0]}")
        expect(card).to_be_visible(timeout=QUICK)
        expect(card.locator(".params")).to_have_text("Sora 2 Pro · v1.0 · 10 秒 · 标准 · 横屏")
        self.wait_until_done(card)
        actions = self.card_menu(card)
        expect(actions.get_by_role("link", name="下载")).to_be_visible()
        expect(actions.get_by_role("button", name="重新生成")).to_be_visible()
        expect(actions.get_by_role("link", name="编辑并重试")).to_be_visible()
        expect(card.locator(".poster img")).to_have_attribute(
            "alt", "视频：A paper lantern drifting down a quiet canal"
        )
        expect(page.locator("#announcer")).to_have_text(
            "视频已就绪：A paper lantern drifting down a quiet canal"
        )

        # And back to English, where the same card speaks English again.
        page.get_by_label("语言").select_option("en")
        expect(page.locator("html")).to_have_attribute("lang", "en", timeout=QUICK)
        expect(page.get_by_role("heading", name="New video")).to_be_visible()
        actions = self.card_menu(card)
        expect(actions.get_by_role("button", name="Re-run")).to_be_visible()
        expect(actions.get_by_role("link", name="Edit & retry")).to_be_visible()
        expect(card.locator(".params")).to_have_text("Sora 2 Pro · v1.0 · 10 s · Standard · landscape")
        expect(page.locator("[data-theme-toggle]")).to_have_text("Theme: auto")
