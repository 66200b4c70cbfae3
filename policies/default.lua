--[[
  default.lua — the reference risk policy, and the one the server uses when
  no other is configured. It allows any symbol with modest limits, so the
  built-in synthetic market (BTCUSDT, ETHUSDT) and the XRPUSDT backtest
  example both trade under it.

  How a policy file works (the full reference is docs/policies.md):

  * The file is Lua 5.4 and must `return` one table with `name`, `limits`,
    `ess` and `judge`. It is checked with `qtr policy check FILE` and
    reloaded by the server every 10 minutes, on SIGHUP and on
    POST /api/policy/reload. A file that fails any check is refused and the
    last good policy stays in force.

  * MONEY IS TEXT. Every amount (notional, funding rate, spread, percent) is
    written as a decimal string such as "1000" or "0.001" (a whole number
    without quotes is accepted too). Never write 0.001 without quotes: floats
    are not exact and are refused.

  * It runs in a sandbox: no files, no network, no os.execute, no require,
    no load; os has only time and clock; memory, instructions and time are
    capped for every call.
    After loading, everything is read-only: judge() cannot keep state
    between orders (tables and globals refuse changes).
]]

-- Limits: what the host checks every order against (whatever risk plugins are loaded).
local limits = {
    -- Symbols that may be traded. Empty (or absent) means any symbol.
    -- Each is 2 to 20 of A-Z and 0-9, at most 64 of them.
    symbols = {},

    max_positions = 3,          -- open positions at once (integer >= 1)
    max_symbols = 3,            -- symbols with a position or an order (integer >= 1)
    min_confidence = 0.5,       -- a signal's confidence must reach this (0 to 1; a score, not money)

    max_position_notional = "1000",   -- USDT in one symbol (|qty| * mark), > 0
    max_order_notional = "500",       -- USDT in one order (qty * price), > 0
    max_total_exposure = "3000",      -- USDT over all positions, > 0, >= max_position_notional
    max_leverage = 5,                 -- integer from 1 to 125

    -- Market filters; "0" turns a filter off (and absent means "0").
    max_abs_funding_rate = "0.001",   -- refuse entries when |funding| per period is above 0.1%
    max_spread_bps = "10",            -- refuse when the book's spread is wider than 10 bps
    min_depth_notional = "0",         -- no depth requirement
}

-- Emergency Stop System thresholds: when to stop all trading.
local ess = {
    max_drawdown_pct = "10",          -- trip at 10% below the equity peak (0 < x <= 100)
    daily_loss_pct = "5",             -- trip at a 5% loss since the UTC day began (0 < x <= 100)
    max_consecutive_errors = 5,       -- trip after 5 exchange errors in a row (integer >= 1)
    cooldown_minutes = 15,            -- stay blocked at least this long after a trip (integer >= 1)
    close_positions = true,           -- a trip also closes open positions (true or false)
    alert_daily_drawdown_pct = "4",   -- warn operators at a 4% daily drawdown (0 < x <= 100)
}

-- Computed once at load, not on every order.
local drawdown_guard_pct = dec.div(ess.max_drawdown_pct, 2)
local lot = "0.001"                   -- resized quantities are whole lots of this

-- What judge() uses on every order, read once here: a local is cheaper to
-- read than a field of the read-only tables (and the decisions are the same).
local min_confidence = limits.min_confidence
local max_order_notional = limits.max_order_notional
local ge, gt, div_step = dec.ge, dec.gt, dec.div_step

--[[
  judge(order, ctx) is called once per order, after the fixed limits above
  have been checked by the host, for rules that need logic.

  order: symbol, side ("BUY"/"SELL"), type ("MARKET", "LIMIT", ...),
         qty, price, stop_price (decimal strings; price "0" for market),
         reduce_only (boolean), confidence (number 0..1), strategy (name).
  ctx:   equity, exposure, drawdown_pct, daily_pnl, position_qty (signed),
         position_notional, price, order_notional, funding_rate,
         spread_bps, depth_notional (decimal strings);
         open_positions, open_symbols, leverage (integers);
         symbol_has_position, has_book (booleans).

  Compare and compute money with `dec` (exact), never tonumber():
    dec.lt(a, b), dec.le, dec.gt, dec.ge, dec.eq, dec.cmp(a, b) -> -1/0/1,
    dec.add, dec.sub, dec.mul, dec.div (round toward zero), dec.min, dec.max,
    dec.round_step(v, step) (down to a multiple of step),
    dec.div_step(a, b, step) (a / b down to a multiple of step: the same as
    dec.round_step(dec.div(a, b), step), in one call).
  Results are canonical decimal strings ("0" for zero, no trailing zeros),
  so comparing one with a literal such as "0" is exact.

  Answer with one of:
    return "allow"
    return "resize", "0.05"             -- new qty: > 0 and <= order.qty
    return "resize", "0.05", "reason"   -- optional reason code
    return "reject", "reason_code"      -- short snake_case
  Anything else, an error, or too many instructions counts as a policy
  error and the order is rejected with reason "policy_error". A judge()
  that runs past its time limit (100 ms by default) or allocates too much
  is rejected with "policy_timeout"; three of those in a minute withdraw
  the policy (the last good one comes back).
]]
local function judge(order, ctx)
    -- Closing or shrinking a position is always allowed: it lowers risk.
    if order.reduce_only then
        return "allow"
    end
    if order.confidence < min_confidence then
        return "reject", "min_confidence"
    end
    -- Past half the ESS drawdown, take no new exposure.
    if ge(ctx.drawdown_pct, drawdown_guard_pct) then
        return "reject", "drawdown_guard"
    end
    -- An order bigger than max_order_notional is cut down to fit, not refused.
    if gt(ctx.order_notional, max_order_notional) then
        local price = ctx.price
        if gt(price, 0) then
            -- whole lots that fit; never negative (both operands are > 0)
            local qty = div_step(max_order_notional, price, lot)
            if qty == "0" then
                return "reject", "max_order_notional"
            end
            return "resize", qty, "max_order_notional"
        end
    end
    return "allow"
end

return {
    name = "default",
    description = "any symbol, modest limits: the built-in paper and backtest default",
    limits = limits,
    ess = ess,
    judge = judge,
}
