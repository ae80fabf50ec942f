"""Canonical codes of the legal aid pre-screen (docs/catalog.md is the contract).

The string values are the entity values the NLU and the Rasa slots hold; never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class MatterType(StrEnum):
    """Legal aid matters (`matter_type` entity)."""

    STATE_COMPENSATION = "state_compensation"
    SOCIAL_INSURANCE = "social_insurance"
    SURVIVOR_PENSION = "survivor_pension"
    SUPPORT_PAYMENT = "support_payment"
    LABOUR_REMUNERATION = "labour_remuneration"
    CIVIL_CAPACITY = "civil_capacity"
    WORK_INJURY = "work_injury"
    TRAFFIC_ACCIDENT = "traffic_accident"
    MEDICAL_ACCIDENT = "medical_accident"
    FOOD_DRUG_SAFETY = "food_drug_safety"
    ENVIRONMENTAL_DAMAGE = "environmental_damage"
    HERO_MARTYR_RIGHTS = "hero_martyr_rights"
    GOOD_SAMARITAN = "good_samaritan"
    WRONGFUL_CONVICTION_COMPENSATION = "wrongful_conviction_compensation"
    DOMESTIC_VIOLENCE = "domestic_violence"
    RETRIAL = "retrial"
    SCHOOL_BULLYING = "school_bullying"
    CROP_LIVESTOCK_LOSS = "crop_livestock_loss"
    LAND_EXPROPRIATION = "land_expropriation"
    CRIMINAL_DEFENCE = "criminal_defence"
    CRIMINAL_VICTIM = "criminal_victim"
    OTHER_CIVIL = "other_civil"


class Identity(StrEnum):
    """Who the person is (`identity` entity); a person may have several."""

    STARTUP_GRADUATE = "startup_graduate"
    GRADUATE = "graduate"
    TECH_WORKER = "tech_worker"
    MIGRANT_WORKER = "migrant_worker"
    DISABLED = "disabled"
    ELDERLY = "elderly"
    MINOR = "minor"
    SOCIAL_ASSISTANCE = "social_assistance"
    MILITARY_FAMILY = "military_family"
    ORPHAN = "orphan"
    LOW_INCOME = "low_income"
    MARTYR_FAMILY = "martyr_family"


class CriminalRole(StrEnum):
    """The person's role in a criminal case."""

    SUSPECT_OR_DEFENDANT = "suspect_or_defendant"  # 犯罪嫌疑人、被告人 (Arts. 24, 25)
    VICTIM = "victim"  # 公诉案件的被害人 (Art. 29)
    PRIVATE_PROSECUTOR = "private_prosecutor"  # 自诉人 (Art. 29)
    CIVIL_CLAIM_PLAINTIFF = "civil_claim_plaintiff"  # 附带民事诉讼原告人 (Art. 29)


class CriminalFactor(StrEnum):
    """Circumstances of a suspect or defendant that trigger Art. 25 mandatory appointment."""

    MINOR = "minor"  # 25(一)
    SENSORY_DISABILITY = "sensory_disability"  # 25(二) 视力、听力、言语残疾
    DIMINISHED_CAPACITY = "diminished_capacity"  # 25(三) 不能完全辨认自己行为的成年人
    LIFE_OR_DEATH_SENTENCE = "life_or_death_sentence"  # 25(四) 可能被判处无期徒刑、死刑
    DEATH_PENALTY_REVIEW = "death_penalty_review"  # 25(五) 死刑复核案件
    TRIAL_IN_ABSENTIA = "trial_in_absentia"  # 25(六) 缺席审判


class Outcome(StrEnum):
    LIKELY_ELIGIBLE = "likely_eligible"
    LIKELY_NOT_ELIGIBLE = "likely_not_eligible"
    NEEDS_STAFF_REVIEW = "needs_staff_review"
    MANDATORY_APPOINTMENT = "mandatory_appointment"


class ExtensionEffect(StrEnum):
    """What a local extension rule does when it applies (set per rule in the data file)."""

    NEEDS_STAFF_REVIEW = "needs_staff_review"  # hand the case to staff instead of a "no"
    LEGAL_HELP = "legal_help"  # outcome unchanged; adds the local legal-help next step
    HARDSHIP_TEST = "hardship_test"  # treat as in scope, subject to the hardship test
    LIKELY_ELIGIBLE = "likely_eligible"  # in scope without the hardship test (explicit only)


class ExtensionTrigger(StrEnum):
    """When a local extension rule is consulted."""

    OUT_OF_SCOPE = "out_of_scope"  # the matter is in no statutory or provincial list
    HARDSHIP_FAILED = "hardship_failed"  # in scope, but the hardship test failed


CRIMINAL_MATTERS = frozenset({MatterType.CRIMINAL_DEFENCE, MatterType.CRIMINAL_VICTIM})
# Matters that are always litigation (Art. 38: apply where the case-handling organ is).
LITIGATION_MATTERS = CRIMINAL_MATTERS | {MatterType.RETRIAL}

# Catalog districts (casedb/data/districts.yaml) plus the city-wide level.
CITY_WIDE = "市级"
DISTRICTS = ("天宁区", "钟楼区", "新北区", "武进区", "金坛区", "溧阳市", CITY_WIDE)
