"""The learning loop: what the tagger left untagged is clustered by the customer's
own words, an analyst labels clusters or contacts, and the labels become
examples the next run tags with (DECISIONLOG "Learning loop")."""
