"""The dedup guards on their own: parsed values compared across notations, paths, identifiers."""

from __future__ import annotations

import pytest

from jobcore.dedup import guards


def _refusal(a: str, b: str) -> str | None:
    """Why the guards refuse the pair, asked both ways (the answer must not depend on order)."""
    forward = guards.refusal(guards.markers(a), guards.markers(b))
    backward = guards.refusal(guards.markers(b), guards.markers(a))
    assert (forward is None) == (backward is None)
    return forward


@pytest.mark.parametrize(("a", "b"), [
    # bands: one band in any notation, the usual conventions ($75K ends where $74,999 does)
    ("Household Income $75K-$100K", "HHI $75,000 - $99,999"),
    ("Household Income $50K-$75K", "Household Income $50,000 to $74,999"),
    ("Household Income $200K+", "Household Income $200,000 and Above"),
    ("Household Income $100K+", "Household Income over $100,000"),
    ("HHI < $30K", "Household Income Under $30,000"),
    ("Ages 35-44", "Adults Aged 35 to 44"),
    ("Age 65+", "Seniors 65 and Over"),
    ("Adults 18-49", "Adults 18 to 49"),
    ("Household Size 2", "Two-Person Households"),
    ("1-10 Employees", "Company Size: 1 to 10 employees"),
    # markets in any notation
    ("Sports Bettors (CA)", "Sports Bettors - CA"),
    ("Online Gamers - Germany", "Online Gamers - DE"),
    ("UK: Golf Fans", "Golf Fans (GB)"),
    ("US » Golf Fans", "Golf Fans - United States"),
    # generations and genders in any notation
    ("Gen Z Gamers", "Generation Z Gamers"),
    ("Millennial Moms", "Gen Y Mothers"),
    ("Boomers", "Baby Boomers"),
    ("Men 18-34", "Males Age 18-34"),
    # model codes written two ways; digits inside a code are not numbers
    ("HP F3H982-10 Toner", "HP F3H98210 Toner"),
    ("Canon CLI-8M Ink", "Canon CLI8M ink cartridge"),
    ("Belkin 963293-0403 Cable", "Belkin 9632930403 cable"),
    # a release matches its major number; "4.0" is "4"
    ("Logic Express 7", "Apple Logic Express 7.2"),
    ("Photoshop Elements 4", "Adobe Photoshop Elements 4.0"),
    # a version in any notation ("v8", "v 8.0"), and a point release of it
    ("Landscape Designer v8", "Landscape Designer v 8.0"),
    ("AppleWorks 6.2 for Mac", "AppleWorks 6.2.9"),
    # "7.3 m-audio" is no amount of money, "Mac 8.6-9.x" no age band, "educational" no edition
    ("M-Audio Pro Tools M-Powered 7.3 m-audio", "M-Audio Pro Tools M-Powered 7.3"),
    ("Age of Mythology (Mac 8.6-9.x)", "Age of Mythology Mac"),
    ("Sudoku Deluxe educational game", "Sudoku Deluxe"),
    # a path against the plain name; framing said by the path or by a cue
    ("Epsilon » Automotive » In-Market » Pickup Trucks", "Pickup Truck Intenders"),
    ("Eyeota / Interest / Outdoor / Camping", "Camping Enthusiasts"),
    # one offer: its edition and platform written two ways, or a platform list that holds
    # the other's; people ("Professionals") and a path's "Family" are not editions
    ("Adobe Illustrator CS3 Upgrade [Mac]", "Adobe Illustrator CS3 Upg for Macintosh"),
    ("QuarkXPress 7 for Mac/Win", "QuarkXPress 7 Windows"),
    ("IT Professionals", "Information Technology Professionals"),
])
def test_one_segment_in_two_notations_is_allowed(a: str, b: str) -> None:
    assert _refusal(a, b) is None


@pytest.mark.parametrize(("a", "b", "reason"), [
    ("Household Income $30K-$50K", "Household Income $50K-$75K", "different bands"),
    ("Household Income $200K+", "Household Income $250K+", "different bands"),
    ("Ages 35-44", "Ages 45-54", "different bands"),
    ("Age 65+", "Age 75+", "different bands"),
    ("Household Size 2", "Household Size 4", "different bands"),
    ("US » B2B » Company Size » 1-10 Employees", "US » B2B » Company Size » 11-50 Employees",
     "different bands"),
    ("Adults", "Adults 25-34", "different bands"),
    ("Online Gamers - DE", "Online Gamers - AT", "different markets"),
    ("Sports Bettors - CA", "Sports Bettors - US", "different markets"),
    ("Sports Bettors - UK", "Sports Bettors", "different markets"),
    ("Gen Y", "Gen Z", "different generations"),
    ("Millennials", "Gamers", "different generations"),
    ("Men 18-34", "Women 18-34", "different genders"),
    ("Pickup Truck Intenders", "Pickup Truck Enthusiasts", "intent against interest"),
    ("Purchase Intent > Coffee", "Interest > Coffee", "intent against interest"),
    ("Demographic > Credit Card Holders", "Interest > Credit Cards", "demographic against"),
    ("Purchase Intent > Sporting Goods > Yoga and Pilates",
     "/Sports & Fitness/Fitness/Yoga & Pilates", "two providers' paths"),
    ("Urban Millennials", "Suburban Millennials", "different audience qualifiers"),
    ("Affluent Travelers", "Travelers", "different audience qualifiers"),
    ("Android 13 Users", "Android 14 Users", "different numbers"),
    ("Windows 10 Users", "Windows 11 Users", "different numbers"),
    ("Reel Deal Slots v2.0", "Reel Deal Slots v3.1", "different versions"),
    ("iView MediaPro 2.5", "iView MediaPro 2.6", "different versions"),
    ("JumpStart World 1st Grade", "JumpStart World 2nd Grade", "different numbers"),
    ("Ages 3-8 Learning Games", "Learning Games", "different bands"),
    ("Revenue $5M+", "Revenue $10M+", "different bands"),
    ("Rumba 902453-007-C", "Rumba 902453-007-B", "different model codes"),
    ("Adobe Dreamweaver CS3 Upgrade", "Adobe Dreamweaver CS3", "different editions"),
    ("Adobe Premiere Pro CS3", "Adobe Premiere Pro CS3 Academic", "different editions"),
    ("Print Explosion Deluxe 3.0", "Print Explosion 3.0", "different editions"),
    ("Quicken 2007 for Mac", "Quicken 2007 Win32", "different platforms"),
    ("Mac Gamers", "PC Gamers", "different platforms"),
    ("/Apparel & Accessories", "/Apparel & Accessories/Footwear", "parent and child"),
    ("Interests > Sports", "Interests > Sports > Golf", "parent and child"),
])
def test_different_segments_are_refused_with_the_reason(a: str, b: str, reason: str) -> None:
    refusal = _refusal(a, b)
    assert refusal is not None and refusal.startswith(reason), refusal


def test_the_guard_key_holds_what_must_be_alike() -> None:
    assert guards.guard_key("Golf Fans - UK") == guards.guard_key("UK: Golf Fans")
    assert guards.guard_key("Golf Fans - UK") != guards.guard_key("Golf Fans - US")
    assert guards.guard_key("Affluent Golf Fans") != guards.guard_key("Golf Fans")
    assert guards.guard_key("Dreamweaver CS3 Upgrade") != guards.guard_key("Dreamweaver CS3")


def test_editions_are_read_from_the_leaf_not_from_a_path() -> None:
    assert guards.markers("Interest > Family and Parenting > Board Games").editions == frozenset()
    assert guards.markers("Apple iWork '06 Family Pack (Mac)").editions == {"family"}
    assert guards.markers("Apple iWork '06 Family Pack (Mac)").platforms == {"mac"}
