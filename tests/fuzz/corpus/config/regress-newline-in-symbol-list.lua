--inga.
return {   market = { source, symbols = { "RSRRR9DT", "ETHU", "ETT0SDT\n\nT0U", "eTHUdT" },int,
  },
}
