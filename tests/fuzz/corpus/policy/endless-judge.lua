return { limits = {}, judge = function(o) while true do end end }
