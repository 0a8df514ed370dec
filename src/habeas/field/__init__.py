"""Field operations: where a person was last known to live and how sure that is, the
route a team drives in a day, and the rules an outcome from the field must keep. Pure
functions; the use cases that read and write the store are in ``habeas.app.field``."""
