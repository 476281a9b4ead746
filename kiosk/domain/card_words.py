"""The codes on an identity card, in words, in the kiosk's three languages.

    sex_words(code, language)           GB/T 2261.1: 0 unknown, 1 male, 2 female, 9 unspecified
    ethnicity_words(code, language)     GB 3304: the 56 ethnic groups, 97 other, 98 foreign origin
    nationality_words(code, language)   GB/T 2659 (= ISO 3166-1 alpha-3), through pycountry's
                                        ISO 3166 names and their zh_CN / zh_TW translations

Languages are the UI's catalogue names: "zh_Hans", "zh_Hant", "en". An unknown code gives
the code itself, so nothing is ever shown blank.
"""

from __future__ import annotations

import gettext
from functools import cache

LANGUAGES = ("zh_Hans", "zh_Hant", "en")

_SEX = {
    "0": ("未知", "未知", "Unknown"),
    "1": ("男", "男", "Male"),
    "2": ("女", "女", "Female"),
    "9": ("未说明", "未說明", "Unspecified"),
}

#: GB 3304-1991: (Simplified, Traditional, English) without the word 族 ("ethnic group").
_ETHNICITIES = {
    "01": ("汉", "漢", "Han"),
    "02": ("蒙古", "蒙古", "Mongol"),
    "03": ("回", "回", "Hui"),
    "04": ("藏", "藏", "Tibetan"),
    "05": ("维吾尔", "維吾爾", "Uyghur"),
    "06": ("苗", "苗", "Miao"),
    "07": ("彝", "彝", "Yi"),
    "08": ("壮", "壯", "Zhuang"),
    "09": ("布依", "布依", "Bouyei"),
    "10": ("朝鲜", "朝鮮", "Korean"),
    "11": ("满", "滿", "Manchu"),
    "12": ("侗", "侗", "Dong"),
    "13": ("瑶", "瑤", "Yao"),
    "14": ("白", "白", "Bai"),
    "15": ("土家", "土家", "Tujia"),
    "16": ("哈尼", "哈尼", "Hani"),
    "17": ("哈萨克", "哈薩克", "Kazakh"),
    "18": ("傣", "傣", "Dai"),
    "19": ("黎", "黎", "Li"),
    "20": ("傈僳", "傈僳", "Lisu"),
    "21": ("佤", "佤", "Va"),
    "22": ("畲", "畲", "She"),
    "23": ("高山", "高山", "Gaoshan"),
    "24": ("拉祜", "拉祜", "Lahu"),
    "25": ("水", "水", "Sui"),
    "26": ("东乡", "東鄉", "Dongxiang"),
    "27": ("纳西", "納西", "Naxi"),
    "28": ("景颇", "景頗", "Jingpo"),
    "29": ("柯尔克孜", "柯爾克孜", "Kirgiz"),
    "30": ("土", "土", "Tu"),
    "31": ("达斡尔", "達斡爾", "Daur"),
    "32": ("仫佬", "仫佬", "Mulao"),
    "33": ("羌", "羌", "Qiang"),
    "34": ("布朗", "布朗", "Blang"),
    "35": ("撒拉", "撒拉", "Salar"),
    "36": ("毛南", "毛南", "Maonan"),
    "37": ("仡佬", "仡佬", "Gelao"),
    "38": ("锡伯", "錫伯", "Xibe"),
    "39": ("阿昌", "阿昌", "Achang"),
    "40": ("普米", "普米", "Pumi"),
    "41": ("塔吉克", "塔吉克", "Tajik"),
    "42": ("怒", "怒", "Nu"),
    "43": ("乌孜别克", "烏孜別克", "Uzbek"),
    "44": ("俄罗斯", "俄羅斯", "Russian"),
    "45": ("鄂温克", "鄂溫克", "Ewenki"),
    "46": ("德昂", "德昂", "De'ang"),
    "47": ("保安", "保安", "Bonan"),
    "48": ("裕固", "裕固", "Yugur"),
    "49": ("京", "京", "Gin"),
    "50": ("塔塔尔", "塔塔爾", "Tatar"),
    "51": ("独龙", "獨龍", "Derung"),
    "52": ("鄂伦春", "鄂倫春", "Oroqen"),
    "53": ("赫哲", "赫哲", "Hezhen"),
    "54": ("门巴", "門巴", "Monba"),
    "55": ("珞巴", "珞巴", "Lhoba"),
    "56": ("基诺", "基諾", "Jino"),
}
_OTHER_ETHNICITIES = {
    "97": ("其他", "其他", "Other"),
    "98": ("外国血统中国籍人士", "外國血統中國籍人士", "Chinese citizen of foreign origin"),
}
#: pycountry's gettext catalogue for each UI language.
_ISO3166_CATALOGUE = {"zh_Hans": "zh_CN", "zh_Hant": "zh_TW"}


def _pick(words: tuple[str, str, str], language: str) -> str:
    return words[LANGUAGES.index(language) if language in LANGUAGES else 2]


def sex_words(code: str, language: str) -> str:
    words = _SEX.get(code)
    return _pick(words, language) if words else code


def ethnicity_words(code: str, language: str) -> str:
    if code in _ETHNICITIES:
        name = _pick(_ETHNICITIES[code], language)
        return name if language == "en" else name + "族"
    words = _OTHER_ETHNICITIES.get(code)
    return _pick(words, language) if words else code


def ethnicity_codes() -> list[str]:
    return sorted(_ETHNICITIES)


@cache
def _iso3166(language: str) -> gettext.NullTranslations:
    import pycountry

    catalogue = _ISO3166_CATALOGUE.get(language)
    if catalogue is None:
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[catalogue])


def nationality_words(code: str, language: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None
    if country is None:
        return code
    return _iso3166(language).gettext(country.name)
