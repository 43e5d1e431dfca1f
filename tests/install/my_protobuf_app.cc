// A program outside eddy's tree that uses the Protobuf serdes, built with
//
//   g++ -std=c++20 my_protobuf_app.cc $(pkg-config --cflags --libs eddy-protobuf)
//
// It writes a google.protobuf.Timestamp through serdes::protobuf, reads it
// back, and prints it in Protobuf's JSON mapping.

#include <cstdio>
#include <string>

#include <google/protobuf/timestamp.pb.h>

#include <eddy/eddy.h>
#include <eddy/serde/protobuf.h>

int main() {
    google::protobuf::Timestamp at;
    at.set_seconds(1700000000);
    const eddy::serdes::protobuf<google::protobuf::Timestamp> serde;
    const auto back = serde.deserialize(serde.serialize(at));
    const std::string text = eddy::serdes::to_json(back);
    std::puts(text.c_str());
    return text == "\"2023-11-14T22:13:20Z\"" ? 0 : 1;
}
