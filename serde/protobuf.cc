#include "serde/protobuf.h"

#include <limits>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/status.h>

namespace eddy::serdes {

namespace internal {

namespace {

std::string prefix(std::string_view serde_name, const google::protobuf::Message& message) {
    return std::string(serde_name) + "<" + message.GetDescriptor()->full_name() + ">: ";
}

} // namespace

std::string serialize_message(const google::protobuf::Message& message) {
    // SerializeToString only DCHECKs required fields; check them always, so
    // a release build does not write an event that no reader can parse.
    if (!message.IsInitialized()) {
        throw serde_error(prefix("protobuf", message)
                          + "cannot serialize: missing required fields: " + message.InitializationErrorString());
    }
    std::string out;
    if (!message.SerializePartialToString(&out)) {
        throw serde_error(prefix("protobuf", message) + "cannot serialize: "
                          + std::to_string(message.ByteSizeLong()) + " bytes exceed protobuf's 2 GiB limit");
    }
    return out;
}

void parse_message(std::string_view bytes, google::protobuf::Message& message) {
    const auto cannot_parse = [&] {
        return prefix("protobuf", message) + "cannot parse " + std::to_string(bytes.size()) + " bytes";
    };
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw serde_error(cannot_parse() + ": more than protobuf's 2 GiB limit");
    }
    // ParseFromArray would also reject missing required fields, but only by
    // logging them; the partial parse plus IsInitialized() puts their names
    // into the error instead.
    if (!message.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw serde_error(cannot_parse());
    }
    if (!message.IsInitialized()) {
        throw serde_error(cannot_parse() + ": missing required fields: " + message.InitializationErrorString());
    }
}

std::string print_json(const google::protobuf::Message& message, const google::protobuf::util::JsonPrintOptions& options) {
    std::string out;
    const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
    if (!status.ok()) {
        throw serde_error(prefix("protobuf-json", message) + "cannot print JSON: " + std::string(status.message()));
    }
    return out;
}

void parse_json(std::string_view text, google::protobuf::Message& message,
                const google::protobuf::util::JsonParseOptions& options) {
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), &message, options);
    if (!status.ok()) {
        throw serde_error(prefix("protobuf-json", message) + "cannot parse JSON: " + std::string(status.message()));
    }
    if (!message.IsInitialized()) {
        throw serde_error(prefix("protobuf-json", message)
                          + "cannot parse JSON: missing required fields: " + message.InitializationErrorString());
    }
}

} // namespace internal

google::protobuf::util::JsonParseOptions default_json_parse_options() {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    return options;
}

} // namespace eddy::serdes
