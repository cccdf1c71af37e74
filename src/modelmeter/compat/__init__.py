"""Views of a report under other tools' conventions, for checking modelmeter's numbers against theirs."""
