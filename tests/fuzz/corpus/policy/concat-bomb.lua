return { limits = {}, ess = {}, judge = function(o, c) local s = "" for i = 1, 1e9 do s = s .. string.rep("x", 1e6) end end }
