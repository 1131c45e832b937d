-- Headless Neovim 0.11 test of erd-lsp through the shipped config (editors/neovim).
-- Usage: ERD_PY=/path/to/python ERD_ROOT=/path/to/repo ERD_WORK=/tmp/dir \
--        nvim --headless -u editors/neovim/test/init.lua
-- Exit code 0 = pass; prints one line per check.
local root = assert(os.getenv('ERD_ROOT'), 'ERD_ROOT not set')
local work = assert(os.getenv('ERD_WORK'), 'ERD_WORK not set')
local py = os.getenv('ERD_PY') or 'python3'

vim.opt.runtimepath:prepend(root .. '/editors/neovim')
vim.cmd('filetype on')
dofile(root .. '/editors/neovim/ftdetect/mermaid.lua')
vim.lsp.config('erd_lsp', { cmd = { py, '-m', 'erd_lsp' }, root_markers = { '.git' } })
vim.lsp.enable('erd_lsp')

local function log(...) io.stdout:write(table.concat(vim.tbl_map(tostring, { ... }), ' ') .. '\n') end
local function fail(msg) log('FAIL: ' .. msg); vim.cmd('cquit 1') end
local function check(cond, msg) if not cond then fail(msg) end; log('ok: ' .. msg) end

local function client_for(bufnr)
  local ok = vim.wait(15000, function() return #vim.lsp.get_clients({ bufnr = bufnr, name = 'erd_lsp' }) > 0 end, 50)
  check(ok, 'erd_lsp attached to ' .. vim.api.nvim_buf_get_name(bufnr))
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'erd_lsp' })[1]
end

local function distinct(bufnr)
  local seen, out = {}, {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local key = d.lnum .. ':' .. d.col .. ':' .. tostring(d.code)
    if not seen[key] then seen[key] = true; table.insert(out, d) end
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum end)
  return out
end

local function request(bufnr, method, params)
  local res, err = vim.lsp.buf_request_sync(bufnr, method, params, 10000)
  if not res then fail(method .. ' failed: ' .. tostring(err)) end
  for _, r in pairs(res) do
    if r.error then fail(method .. ' error: ' .. vim.inspect(r.error)) end
    return r.result
  end
end

local function pos(bufnr, line, col)
  return { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = line, character = col } }
end

-- 1. seed 003 (Markdown with two Git conflict regions): two E002, once each
vim.cmd('edit ' .. work .. '/state.md')
local md = vim.api.nvim_get_current_buf()
check(vim.bo[md].filetype == 'markdown', 'state.md is markdown')
local c = client_for(md)
log('negotiated', c.offset_encoding)
check(c.offset_encoding == 'utf-8', 'Neovim 0.11 negotiates utf-8')
local ok = vim.wait(15000, function() return #distinct(md) >= 2 end, 50)
check(ok, 'diagnostics arrived for state.md')
vim.wait(300)
local d = distinct(md)
check(#d == 2, 'exactly two distinct diagnostics, got ' .. #d .. ' (' .. #vim.diagnostic.get(md) .. ' in all)')
check(#vim.diagnostic.get(md) == 2, 'no diagnostic shown twice (pull only)')
check(d[1].lnum == 79 and d[2].lnum == 113 and d[1].code == 'E002', 'E002 at lines 80 and 114')

-- 2. a .mmd file with a non-ASCII entity: filetype, diagnostics in bytes, navigation
vim.cmd('edit ' .. work .. '/shop.mmd')
local mmd = vim.api.nvim_get_current_buf()
check(vim.bo[mmd].filetype == 'mermaid', 'shop.mmd is mermaid')
client_for(mmd)
ok = vim.wait(15000, function() return #distinct(mmd) >= 1 end, 50)
check(ok, 'diagnostics arrived for shop.mmd')
local w
for _, x in ipairs(distinct(mmd)) do if x.message:find('ORDRE') then w = x end end
check(w and w.code == 'W101' and w.lnum == 9, 'W101 on the misspelt ORDRE (line 10)')
-- the line is `    KÜCHE ||--o{ ORDRE : stocks`: ORDRE starts at byte 4 + 6 + 1 + 6 + 1 = 18
check(w.col == 18, 'column counted in bytes (Ü is two): got ' .. w.col)

-- definition from the relationship end `ORDER` (line 11, byte 21) to its block (line 6)
local res = request(mmd, 'textDocument/definition', pos(mmd, 10, 21))
local loc = res and (res[1] or res)
check(loc and loc.range and loc.range.start.line == 5, 'definition of ORDER jumps to its block')

-- completion after the cardinality, at the right entity
vim.api.nvim_buf_set_lines(mmd, 12, 12, false, { '    KÜCHE ||--o{ ' })
local line = '    KÜCHE ||--o{ '
res = request(mmd, 'textDocument/completion', pos(mmd, 12, #line))
local items = res and (res.items or res) or {}
local labels = vim.tbl_map(function(i) return i.label end, items)
check(vim.tbl_contains(labels, 'ORDER') and vim.tbl_contains(labels, 'PRODUCT'), 'completion offers the entities: ' .. table.concat(labels, ','))
vim.api.nvim_buf_set_lines(mmd, 12, 13, false, {})

-- the outline (written by the server as JSON text): entities with their attributes, the
-- non-ASCII name read back as it is, its columns in bytes
res = request(mmd, 'textDocument/documentSymbol', { textDocument = { uri = vim.uri_from_bufnr(mmd) } })
local by = {}
for _, s in ipairs(res or {}) do by[s.name] = s end
check(by.CUSTOMER and #by.CUSTOMER.children == 2 and by.CUSTOMER.children[2].name == 'name', 'outline: CUSTOMER with its two attributes')
local k = by['KÜCHE']
check(k and k.selectionRange.start.line == 9 and k.selectionRange.start.character == 4 and k.selectionRange['end'].character == 10,
  'outline: KÜCHE at line 10, bytes 4 to 10: ' .. vim.inspect(k and k.selectionRange))

-- rename ORDER to PURCHASE_ORDER: every use changes
res = request(mmd, 'textDocument/rename', vim.tbl_extend('force', pos(mmd, 10, 21), { newName = 'PURCHASE_ORDER' }))
check(res and (res.changes or res.documentChanges), 'rename returned edits')
vim.lsp.util.apply_workspace_edit(res, 'utf-8')
local text = table.concat(vim.api.nvim_buf_get_lines(mmd, 0, -1, false), '\n')
check(select(2, text:gsub('%f[%w_]ORDER%f[^%w_]', '')) == 0 and select(2, text:gsub('PURCHASE_ORDER', '')) == 3, 'all three ORDER uses renamed')

log('PASS')
vim.cmd('qa!')
