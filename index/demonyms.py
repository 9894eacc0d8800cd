"""Places and the words for their people: a question says "the Dutch researchers", the brief says "in the
Netherlands". The relevance gate asks that a passage names every rare name of the question in some form
(index.lexical.LexicalIndex.naming); forms that share a prefix ("Hungary"/"Hungarian") are found in
the vocabulary, these are the ones that do not ("Canada"/"Canadian": the stems part after "canad").
"""

from __future__ import annotations

__all__ = ["PLACE_GROUPS"]

# A place, then what its people, language or things are called; groups are separated by | or a line end.
_GROUPS = """
Afghanistan Afghan | Albania Albanian | Algeria Algerian | Argentina Argentine Argentinian | Armenia Armenian
Australia Australian Aussie | Austria Austrian | Azerbaijan Azerbaijani Azeri | Bangladesh Bangladeshi
Belarus Belarusian | Belgium Belgian | Bolivia Bolivian | Bosnia Bosnian | Brazil Brazilian | Britain British Briton UK
Bulgaria Bulgarian | Cambodia Cambodian | Cameroon Cameroonian | Canada Canadian | Chile Chilean | China Chinese
Colombia Colombian | Congo Congolese | Croatia Croatian Croat | Cuba Cuban | Cyprus Cypriot | Czechia Czech
Denmark Danish Dane | Ecuador Ecuadorian | Egypt Egyptian | England English | Estonia Estonian | Ethiopia Ethiopian
Finland Finnish Finn | France French | Georgia Georgian | Germany German | Ghana Ghanaian | Greece Greek
Guatemala Guatemalan | Haiti Haitian | Honduras Honduran | Hungary Hungarian | Iceland Icelandic Icelander
India Indian | Indonesia Indonesian | Iran Iranian Persian | Iraq Iraqi | Ireland Irish | Israel Israeli
Italy Italian | Jamaica Jamaican | Japan Japanese | Jordan Jordanian | Kazakhstan Kazakh | Kenya Kenyan
Korea Korean | Kuwait Kuwaiti | Laos Lao Laotian | Latvia Latvian | Lebanon Lebanese | Libya Libyan
Lithuania Lithuanian | Malaysia Malaysian | Mali Malian | Malta Maltese | Mexico Mexican | Moldova Moldovan
Mongolia Mongolian | Morocco Moroccan | Mozambique Mozambican | Myanmar Burma Burmese | Nepal Nepali Nepalese
Netherlands Holland Dutch | Zealand Zealander Kiwi | Nicaragua Nicaraguan | Niger Nigerien | Nigeria Nigerian
Norway Norwegian | Oman Omani | Pakistan Pakistani | Palestine Palestinian | Panama Panamanian | Paraguay Paraguayan
Peru Peruvian | Philippines Filipino Philippine | Poland Polish Pole | Portugal Portuguese | Qatar Qatari
Romania Romanian | Russia Russian | Rwanda Rwandan | Saudi Arabia Arabian | Scotland Scottish Scot | Senegal Senegalese
Serbia Serbian Serb | Singapore Singaporean | Slovakia Slovak | Slovenia Slovenian Slovene | Somalia Somali
Spain Spanish Spaniard | Lanka Lankan | Sudan Sudanese | Sweden Swedish Swede | Switzerland Swiss | Syria Syrian
Taiwan Taiwanese | Tanzania Tanzanian | Thailand Thai | Tunisia Tunisian | Turkey Turkish Turk Türkiye
Uganda Ugandan | Ukraine Ukrainian | Emirates Emirati | America American USA | Uruguay Uruguayan
Uzbekistan Uzbek | Venezuela Venezuelan | Vietnam Vietnamese | Wales Welsh | Yemen Yemeni | Zambia Zambian
Zimbabwe Zimbabwean | Europe European | Africa African | Asia Asian | Antarctica Antarctic
"""

PLACE_GROUPS: tuple[tuple[str, ...], ...] = tuple(tuple(g.split()) for g in _GROUPS.replace("\n", "|").split("|") if g.strip())
