"""One module per family of figures. Every metric is a plain function

    def metric(*, scope: Scope, period: Period, ...) -> Kpi | Series | Table

that reads only (a handful of aggregate queries, never a query per ticket) and is tested against
a hand-computed fixture. ``scope`` holds the tickets the viewer may see with the filters applied
(not the dates); ``period`` says which dates count and in which time zone days begin.
"""
