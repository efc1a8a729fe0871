"""Nothing of `responses/` is registered in the Django admin, on purpose.

Response logs, referrals and follow-ups are the organisation's own record (notes, people
engaged, retaliation risk, follow-up text). The administrators are CPD leadership after
hand-over: the organisations' records are not theirs to read, so there is no admin page,
changelist, inline or search over these tables (tests/audit/test_admin_boundary.py walks
every admin page and plants a canary in each of these fields). The organisation reads and
exports its own records in the portal (`/team/`).
"""
