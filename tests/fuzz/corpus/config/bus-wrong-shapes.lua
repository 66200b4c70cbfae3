-- A bus section of the wrong shapes: a string where a table goes, a list
-- for a table, a table for a string.
return { host_id = { "h" }, role = 3, bus = { redis = "redis://h", buffer = { "x" }, group = {} }, plugins = {} }
