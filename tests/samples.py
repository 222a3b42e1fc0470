"""Small, real-sounding articles the fixtures write to disk (one per supported format)."""

PORTS_TXT = """Port of Rotterdam reports record container volumes

The Port of Rotterdam handled 15.3 million containers last year, a record for Europe's largest port. \
Officials credited new automated terminals on the Maasvlakte and a surge in trade with Asia.

Port chief executive Allard Castelein said congestion eased in the second half of the year. \
Dock workers' unions warned that automation would cost jobs and called for talks with terminal operators.
"""

COUNCIL_MD = """---
title: City council approves bike lanes on Main Street
date: 2022-03-14
url: https://www.springfield-herald.example/news/bike-lanes
source: Springfield Herald
authors: Dana Whitfield, Luis Ortega
---
# City council approves bike lanes on Main Street

The Springfield city council voted 7-2 on Monday to add protected bike lanes along Main Street. \
Construction is expected to begin in June and last about four months.

Shop owners were divided. Some feared losing parking spaces, while others expected more foot traffic.
"""

STORM_HTML = """<!doctype html>
<html><head>
<title>Storm knocks out power to 40,000 homes</title>
<meta property="article:published_time" content="2022-11-02T08:30:00Z">
<link rel="canonical" href="https://coastal-news.example/2022/11/storm-power">
<script>window.tracking = "SCRIPT-SHOULD-NOT-APPEAR";</script>
<style>.x { color: red }</style>
</head><body>
<nav><a href="/">Home</a> <a href="/weather">NAV-SHOULD-NOT-APPEAR</a></nav>
<article>
<h1>Storm knocks out power to 40,000 homes</h1>
<p>A fierce overnight storm knocked out power to about 40,000 homes along the coast, the utility said.</p>
<p>Crews expected to restore electricity to most customers by Thursday evening.</p>
</article>
<footer>Copyright FOOTER-SHOULD-NOT-APPEAR</footer>
</body></html>
"""

WIRE_JSONL_LINES = (
    '{"id": "wire-001", "title": "Central bank raises interest rates by half a point", '
    '"url": "https://wire.example/rates", "source": "Example Wire", "published_at": "2022/06/15", '
    '"authors": ["A. Banker"], "text": "The central bank raised its benchmark interest rate by half a '
    'percentage point on Wednesday, its largest increase in two decades, to fight inflation."}',
    '{"id": "wire-002", "title": "Drought cuts wheat harvest", "source": "Example Wire", '
    '"published_at": "2022-07-01", "text": "A prolonged drought has cut the regional wheat harvest by a '
    'third, farmers said, pushing bread prices higher."}',
    '{"id": "wire-003", "title": "Museum returns looted bronzes", "url": "https://wire.example/bronzes", '
    '"text": "The museum returned 31 looted bronze sculptures to Nigeria in a ceremony on Saturday."}',
)

TINY_CORPUS_ARTICLES = 6  # one each from the .txt, .md and .html files, three from the .jsonl
