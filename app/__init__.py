"""wuye (物业台账): the data platform of a residential-community property office."""
