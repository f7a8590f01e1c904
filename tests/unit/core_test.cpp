// The core model: name tables of severities and states, dims keys, the label matcher, digests.

#include <gtest/gtest.h>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/dims.hpp"
#include "kpiwatch/labels.hpp"

namespace kpiwatch {
namespace {

TEST(AlertNames, EverySeverityAndStateReadsBackFromItsName) {
  for (auto s : {Severity::info, Severity::warning, Severity::critical}) {
    Severity back = s == Severity::info ? Severity::critical : Severity::info;
    ASSERT_TRUE(parse_severity(to_string(s), back)) << to_string(s);
    EXPECT_EQ(back, s);
  }
  for (auto s : {AlertState::inactive, AlertState::pending, AlertState::firing, AlertState::resolved}) {
    AlertState back = s == AlertState::firing ? AlertState::pending : AlertState::firing;
    ASSERT_TRUE(parse_alert_state(to_string(s), back)) << to_string(s);
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(to_string(Severity::critical), "critical");
  EXPECT_EQ(to_string(AlertState::resolved), "resolved");
}

TEST(AlertNames, AnUnknownNameIsRefusedAndLeavesTheValue) {
  Severity severity = Severity::warning;
  EXPECT_FALSE(parse_severity("Critical", severity));
  EXPECT_FALSE(parse_severity("", severity));
  EXPECT_EQ(severity, Severity::warning);
  AlertState state = AlertState::pending;
  EXPECT_FALSE(parse_alert_state("fired", state));
  EXPECT_EQ(state, AlertState::pending);
}

TEST(DimsKey, IsSortedByNameAndReadsBack) {
  Dims dims{{"stage", "all"}, {"platform", "element_tech"}};
  EXPECT_EQ(dims_key(dims), "platform=element_tech,stage=all");
  EXPECT_EQ(parse_dims_key(dims_key(dims)), dims);
  EXPECT_EQ(dims_key({}), "");
  EXPECT_TRUE(parse_dims_key("").empty());
}

TEST(LabelsMatch, EveryMatcherMustHoldAndNoMatchersMatchEverything) {
  Labels labels{{"rule", "g06-stage-up-rate-falling"}, {"goal", "6"}, {"stage", "all"}};
  EXPECT_TRUE(labels_match({}, labels));
  EXPECT_TRUE(labels_match({{"goal", "6"}}, labels));
  EXPECT_TRUE(labels_match({{"goal", "6"}, {"stage", "all"}}, labels));
  EXPECT_FALSE(labels_match({{"goal", "6"}, {"stage", "basic"}}, labels));
  EXPECT_FALSE(labels_match({{"area", "r_and_d"}}, labels)) << "a label the alert lacks";
}

TEST(Digest, Sha256AndHmacMatchTheirPublishedTestVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231, test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace kpiwatch
