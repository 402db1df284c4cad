"""What the funnel's parts agree on, defined once: the models, the report,
the workbook and the planner import it from here."""

# The step of won deals, whatever its place: its code, a technical key the
# managers cannot change (they may reorder the steps).
WON_STEP = "after_sales"

# Deal sizes, between the company's three edges (funnel method, section 3).
DEAL_SIZES = [
    ("small", "Small deal"),
    ("medium", "Medium deal"),
    ("large", "Large deal"),
    ("very_large", "Very large deal"),
]
