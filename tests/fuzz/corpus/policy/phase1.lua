-- phase1.lua — go-live phase1: 3 majors, 3 positions, 1,000 USDT each, ESS at 3% drawdown
-- Format and field meanings: policies/default.lua and docs/policies.md.
-- Money and percentages are decimal strings (exact), never bare floats.

local limits = {
    symbols = { "BTCUSDT", "ETHUSDT", "BNBUSDT" },
    max_positions = 3,
    max_symbols = 3,
    min_confidence = 0.60,
    max_position_notional = "1000",  -- USDT per symbol
    max_order_notional = "500",  -- USDT per order
    max_total_exposure = "3000",  -- USDT over all positions
    max_leverage = 3,
    max_abs_funding_rate = "0.001",     -- 0.1% per funding period
    max_spread_bps = "10",
    min_depth_notional = "0",
}

local ess = {
    max_drawdown_pct = "3",
    daily_loss_pct = "2",
    max_consecutive_errors = 5,
    cooldown_minutes = 15,
    close_positions = true,
    alert_daily_drawdown_pct = "2.5",
}

-- Computed once at load, not on every order; judge() reads locals, which
-- cost less than fields of the read-only tables.
local drawdown_guard_pct = dec.div(ess.max_drawdown_pct, 2)
local lot = "0.001"
local min_confidence = limits.min_confidence
local max_order_notional = limits.max_order_notional
local ge, gt, div_step = dec.ge, dec.gt, dec.div_step

-- Reduce-only orders always pass; otherwise a confidence floor, no new
-- exposure past half the ESS drawdown, and oversized orders cut to fit
-- (whole lots; a cut to nothing is a reject).
local function judge(order, ctx)
    if order.reduce_only then
        return "allow"
    end
    if order.confidence < min_confidence then
        return "reject", "min_confidence"
    end
    if ge(ctx.drawdown_pct, drawdown_guard_pct) then
        return "reject", "drawdown_guard"
    end
    if gt(ctx.order_notional, max_order_notional) then
        local price = ctx.price
        if gt(price, 0) then
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
    name = "phase1",
    description = "3 majors, 3 positions, 1,000 USDT each, ESS at 3% drawdown",
    limits = limits,
    ess = ess,
    judge = judge,
}
