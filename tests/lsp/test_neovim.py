"""A real editor: headless Neovim (Debian's `neovim`, 0.7) attaches `pipectl lsp` to a deal
file with a minimal init.lua, waits for the diagnostics and writes them out; they are
`pipectl lint`'s. Then it edits the buffer (unsaved) and the diagnostics follow. One Neovim
process for the module; scripts/install-dev installs Neovim, so a missing one fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from world import ENV, lint_findings, lint_json, make_world

# vim.lsp.start (0.8+) is not in Debian's 0.7.2: start_client, then buf_attach_client
INIT_LUA = """
local out, python = vim.env.PIPECTL_NVIM_OUT, vim.env.PIPECTL_PYTHON
local client = vim.lsp.start_client({ name = "pipectl", cmd = { python, "-m", "pipectl", "lsp" } })

local function dump()
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(found, { code = d.code, lnum = d.lnum, col = d.col,
                          severity = d.severity, message = d.message })
  end
  return found
end

local function has(code)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == code then return true end
  end
  return false
end

vim.api.nvim_create_autocmd("BufReadPost", {
  pattern = "*.md",
  callback = function() vim.lsp.buf_attach_client(0, client) end,
})

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    local opened = vim.wait(20000, function() return has("PL202") end, 20)
    local first = dump()
    -- an unsaved edit: the owner line the deal lacked, typed in
    vim.api.nvim_buf_set_lines(0, 2, 2, false, { "owner: carol" })
    local changed = vim.wait(20000, function() return not has("PL202") end, 20)
    local result = { opened = opened, first = first, changed = changed, after = dump() }
    vim.fn.writefile({ vim.fn.json_encode(result) }, out)
    vim.cmd("qa!")
  end,
})
"""

SEVERITY = {1: "error", 2: "warning", 3: "info"}


@pytest.fixture(scope="module")
def nvim_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    nvim = shutil.which("nvim")
    assert nvim is not None, "Neovim is missing: run scripts/install-dev"
    base = tmp_path_factory.mktemp("nvim")
    root = make_world(base)
    init = base / "init.lua"
    init.write_text(INIT_LUA, encoding="utf-8")
    out = base / "diagnostics.json"
    env = {**ENV, "PIPECTL_NVIM_OUT": str(out), "PIPECTL_PYTHON": sys.executable}
    env["XDG_CONFIG_HOME"] = env["XDG_DATA_HOME"] = env["XDG_STATE_HOME"] = str(base / "xdg")
    subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", str(init), "prospecting/acme.md"],
        cwd=root,
        env=env,
        timeout=60,
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return root, json.loads(out.read_text(encoding="utf-8"))


def _as_findings(found: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    out = [
        (d["code"], SEVERITY[d["severity"]], d["lnum"] + 1, d["col"] + 1, d["message"])
        for d in found
    ]
    return sorted(out, key=lambda f: (f[2], f[3], f[0], f[4]))


def test_neovim_shows_lints_findings(nvim_run: tuple[Path, dict[str, Any]]) -> None:
    root, result = nvim_run
    assert result["opened"] is True
    assert _as_findings(result["first"]) == lint_findings(lint_json(root, "prospecting/acme.md"))


def test_neovim_follows_the_unsaved_edit(nvim_run: tuple[Path, dict[str, Any]]) -> None:
    root, result = nvim_run
    assert result["changed"] is True
    codes = {d["code"] for d in result["after"]}
    assert "PL202" not in codes and "PL102" in codes  # only the owner was typed in
    assert "owner: carol" not in (root / "prospecting" / "acme.md").read_text(encoding="utf-8")
