#include <cstddef>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "serde/protobuf.h"
#include "serde/serde.h"
#include "test_messages.pb.h"
#include "test_required.pb.h"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::ThrowsMessage;
using google::protobuf::util::MessageDifferencer;

using task_serde = eddy::serdes::protobuf<eddy::test::Task>;
using task_json_serde = eddy::serdes::protobuf_json<eddy::test::Task>;

static_assert(eddy::serde_for<task_serde, eddy::test::Task>);
static_assert(eddy::serde_for<task_json_serde, eddy::test::Task>);

eddy::test::Task sample_task() {
    eddy::test::Task task;
    task.set_title("Write the serde tests");
    task.set_created_at_ms(1'795'812'489'123);
    task.add_tags("home");
    task.add_tags("urgent");
    task.mutable_assignee()->set_name("ann");
    task.mutable_assignee()->set_team_id(7);
    task.set_priority(eddy::test::PRIORITY_HIGH);
    return task;
}

std::string cannot_parse(std::size_t n) {
    return "protobuf<eddy.test.Task>: cannot parse " + std::to_string(n) + " bytes";
}

TEST(ProtobufSerdeTest, IsNamedProtobuf) {
    EXPECT_EQ(task_serde::name, "protobuf");
    const eddy::serde_ref<eddy::test::Task> ref = task_serde{};
    EXPECT_EQ(ref.name(), "protobuf");
}

TEST(ProtobufSerdeTest, WritesProtobufsOwnWireFormat) {
    const task_serde s;
    eddy::test::Task small;
    small.set_title("hi");
    EXPECT_EQ(s.serialize(small), std::string("\x0a\x02hi", 4));
    EXPECT_EQ(s.serialize(sample_task()), sample_task().SerializeAsString());
}

TEST(ProtobufSerdeTest, RoundTripsEveryFieldKind) {
    const task_serde s;
    const auto back = s.deserialize(s.serialize(sample_task()));
    EXPECT_TRUE(MessageDifferencer::Equals(back, sample_task())) << back.DebugString();
}

TEST(ProtobufSerdeTest, ReadsNoBytesAsTheEmptyMessageItEncodes) {
    const auto back = task_serde{}.deserialize("");
    EXPECT_TRUE(MessageDifferencer::Equals(back, eddy::test::Task{}));
}

TEST(ProtobufSerdeTest, RejectsBytesThatAreNotTheWireFormat) {
    const task_serde s;
    // Wire type 7 does not exist.
    EXPECT_THAT([&] { (void)s.deserialize("\x0f"); }, ThrowsMessage<eddy::serde_error>(cannot_parse(1)));
    // Field number 0 is reserved.
    EXPECT_THAT([&] { (void)s.deserialize(std::string("\x00\x01", 2)); },
                ThrowsMessage<eddy::serde_error>(cannot_parse(2)));
    // A tag varint longer than ten bytes.
    EXPECT_THAT([&] { (void)s.deserialize(std::string(11, '\xff')); },
                ThrowsMessage<eddy::serde_error>(cannot_parse(11)));
    // An end-group tag with no group open.
    EXPECT_THAT([&] { (void)s.deserialize("\x0c"); }, ThrowsMessage<eddy::serde_error>(cannot_parse(1)));
    // A length that runs past the end: 100 bytes of title announced, 5 given.
    EXPECT_THAT([&] { (void)s.deserialize("\x0a\x64hello"); }, ThrowsMessage<eddy::serde_error>(cannot_parse(7)));
}

TEST(ProtobufSerdeTest, RejectsAProto3StringThatIsNotUtf8) {
    EXPECT_THAT([] { (void)task_serde{}.deserialize("\x0a\x02\xc3\x28"); },
                ThrowsMessage<eddy::serde_error>(cannot_parse(4)));
}

TEST(ProtobufSerdeTest, RejectsInputCutInsideAField) {
    const task_serde s;
    const std::string full = s.serialize(sample_task());
    // Inside the title's bytes.
    EXPECT_THAT([&] { (void)s.deserialize(full.substr(0, 5)); }, ThrowsMessage<eddy::serde_error>(cannot_parse(5)));
    // Inside created_at_ms's varint: its tag is right after the title.
    const std::size_t varint_at = 2 + sample_task().title().size() + 1;
    EXPECT_THAT([&] { (void)s.deserialize(full.substr(0, varint_at + 2)); },
                ThrowsMessage<eddy::serde_error>(cannot_parse(varint_at + 2)));
    // Inside the nested assignee (one byte short of the end of it).
    eddy::test::Task without_priority = sample_task();
    without_priority.clear_priority();
    const std::size_t assignee_end = without_priority.ByteSizeLong();
    EXPECT_THAT([&] { (void)s.deserialize(full.substr(0, assignee_end - 1)); },
                ThrowsMessage<eddy::serde_error>(cannot_parse(assignee_end - 1)));
}

// The binary format has no length or end marker: input cut exactly between
// two fields is a valid encoding of a message with fewer fields. Every other
// cut is caught. This pins both halves down.
TEST(ProtobufSerdeTest, RejectsEveryTruncationExceptOneAtAFieldBoundary) {
    const task_serde s;
    const eddy::test::Task full_task = sample_task();
    const std::string full = s.serialize(full_task);

    std::set<std::size_t> boundaries;
    eddy::test::Task partial;
    boundaries.insert(partial.ByteSizeLong());
    partial.set_title(full_task.title());
    boundaries.insert(partial.ByteSizeLong());
    partial.set_created_at_ms(full_task.created_at_ms());
    boundaries.insert(partial.ByteSizeLong());
    partial.add_tags(full_task.tags(0));
    boundaries.insert(partial.ByteSizeLong());
    partial.add_tags(full_task.tags(1));
    boundaries.insert(partial.ByteSizeLong());
    *partial.mutable_assignee() = full_task.assignee();
    boundaries.insert(partial.ByteSizeLong());
    ASSERT_EQ(boundaries.size(), 6U);

    std::set<std::size_t> accepted;
    std::size_t rejected = 0;
    for (std::size_t n = 0; n < full.size(); ++n) {
        const std::string prefix = full.substr(0, n);
        try {
            const auto parsed = s.deserialize(prefix);
            EXPECT_EQ(parsed.SerializeAsString(), prefix) << "cut at " << n;
            accepted.insert(n);
        } catch (const eddy::serde_error& e) {
            EXPECT_EQ(std::string(e.what()), cannot_parse(n));
            ++rejected;
        }
    }
    EXPECT_EQ(accepted, boundaries);
    EXPECT_EQ(rejected, full.size() - boundaries.size());
}

TEST(ProtobufSerdeTest, KeepsUnknownFieldsFromNewerWriters) {
    const task_serde s;
    // Field 99, varint 1: a field this reader's schema does not know.
    const std::string newer = s.serialize(sample_task()) + "\x98\x06\x01";
    const auto parsed = s.deserialize(newer);
    EXPECT_EQ(parsed.title(), sample_task().title());
    EXPECT_EQ(s.serialize(parsed), newer);
}

TEST(ProtobufSerdeTest, RejectsAProto2MessageMissingARequiredField) {
    const eddy::serdes::protobuf<eddy::test::Legacy> s;
    eddy::test::Legacy only_note;
    only_note.set_note("x");
    EXPECT_THAT([&] { (void)s.serialize(only_note); },
                ThrowsMessage<eddy::serde_error>(
                    "protobuf<eddy.test.Legacy>: cannot serialize: missing required fields: id"));
    // Field 2 (note) alone, as a writer with an older schema or a cut
    // before field 1 would leave it.
    EXPECT_THAT([&] { (void)s.deserialize("\x12\x01x"); },
                ThrowsMessage<eddy::serde_error>(
                    "protobuf<eddy.test.Legacy>: cannot parse 3 bytes: missing required fields: id"));
    EXPECT_THAT([&] { (void)s.deserialize(""); },
                ThrowsMessage<eddy::serde_error>(
                    "protobuf<eddy.test.Legacy>: cannot parse 0 bytes: missing required fields: id"));

    eddy::test::Legacy complete = only_note;
    complete.set_id(12);
    EXPECT_EQ(s.deserialize(s.serialize(complete)).id(), 12);
}

TEST(ProtobufJsonTest, WritesProtobufsCanonicalJsonMapping) {
    EXPECT_EQ(eddy::serdes::to_json(sample_task()),
              R"({"title":"Write the serde tests","createdAtMs":"1795812489123","tags":["home","urgent"],)"
              R"("assignee":{"name":"ann","teamId":"7"},"priority":"PRIORITY_HIGH"})");
}

TEST(ProtobufJsonTest, RoundTripsThroughJson) {
    const auto back = eddy::serdes::from_json<eddy::test::Task>(eddy::serdes::to_json(sample_task()));
    EXPECT_TRUE(MessageDifferencer::Equals(back, sample_task())) << back.DebugString();
}

TEST(ProtobufJsonTest, ReadsProtoFieldNamesAndNumbersToo) {
    const auto task = eddy::serdes::from_json<eddy::test::Task>(
        R"({"created_at_ms": 42, "priority": 1, "assignee": {"team_id": "9"}})");
    EXPECT_EQ(task.created_at_ms(), 42);
    EXPECT_EQ(task.priority(), eddy::test::PRIORITY_LOW);
    EXPECT_EQ(task.assignee().team_id(), 9);
}

TEST(ProtobufJsonTest, IgnoresUnknownFieldsUnlessAskedNotTo) {
    const std::string text = R"({"title": "t", "addedInV2": true})";
    EXPECT_EQ(eddy::serdes::from_json<eddy::test::Task>(text).title(), "t");

    google::protobuf::util::JsonParseOptions strict;
    EXPECT_THAT([&] { (void)eddy::serdes::from_json<eddy::test::Task>(text, strict); },
                ThrowsMessage<eddy::serde_error>(
                    AllOf(StartsWith("protobuf-json<eddy.test.Task>: cannot parse JSON: "), HasSubstr("addedInV2"))));
}

TEST(ProtobufJsonTest, RejectsMalformedJsonAndWrongTypes) {
    const auto rejects = [](const std::string& text) {
        EXPECT_THAT([&] { (void)eddy::serdes::from_json<eddy::test::Task>(text); },
                    ThrowsMessage<eddy::serde_error>(StartsWith("protobuf-json<eddy.test.Task>: cannot parse JSON: ")))
            << text;
    };
    rejects(R"({"title": "t")");
    rejects("not json");
    rejects("");
    rejects(R"({"title": 5})");
    rejects(R"({"createdAtMs": true})");
    rejects(R"({"createdAtMs": "12x"})");
    rejects(R"([1, 2])");
}

// Protobuf's ignore_unknown_fields covers enum names too: a name added by a
// newer writer reads as the enum's zero value, as proto3 intends.
TEST(ProtobufJsonTest, ReadsAnUnknownEnumNameAsZeroUnlessStrict) {
    const std::string text = R"({"title": "t", "priority": "PRIORITY_URGENT"})";
    const auto task = eddy::serdes::from_json<eddy::test::Task>(text);
    EXPECT_EQ(task.title(), "t");
    EXPECT_EQ(task.priority(), eddy::test::PRIORITY_UNSPECIFIED);

    google::protobuf::util::JsonParseOptions strict;
    EXPECT_THAT([&] { (void)eddy::serdes::from_json<eddy::test::Task>(text, strict); },
                ThrowsMessage<eddy::serde_error>(AllOf(
                    StartsWith("protobuf-json<eddy.test.Task>: cannot parse JSON: "), HasSubstr("PRIORITY_URGENT"))));
}

TEST(ProtobufJsonTest, RejectsAProto2MessageMissingARequiredField) {
    EXPECT_THAT([] { (void)eddy::serdes::from_json<eddy::test::Legacy>(R"({"note": "x"})"); },
                ThrowsMessage<eddy::serde_error>(AllOf(StartsWith("protobuf-json<eddy.test.Legacy>: cannot parse JSON"),
                                                       HasSubstr("id"))));
}

TEST(ProtobufJsonSerdeTest, CarriesTheJsonMappingOnTheWire) {
    const task_json_serde s;
    EXPECT_EQ(task_json_serde::name, "protobuf-json");
    EXPECT_EQ(s.serialize(sample_task()), eddy::serdes::to_json(sample_task()));
    EXPECT_TRUE(MessageDifferencer::Equals(s.deserialize(s.serialize(sample_task())), sample_task()));
    EXPECT_THAT([&] { (void)s.deserialize("\x0a\x02hi"); },
                ThrowsMessage<eddy::serde_error>(StartsWith("protobuf-json<eddy.test.Task>: cannot parse JSON: ")));
}

TEST(ProtobufJsonSerdeTest, UsesTheOptionsItIsGiven) {
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    google::protobuf::util::JsonParseOptions parse;
    const task_json_serde s(print, parse);
    eddy::test::Task task;
    task.set_created_at_ms(3);
    EXPECT_EQ(s.serialize(task), R"({"created_at_ms":"3"})");
    EXPECT_THROW((void)s.deserialize(R"({"unknown": 1})"), eddy::serde_error);
}

} // namespace
