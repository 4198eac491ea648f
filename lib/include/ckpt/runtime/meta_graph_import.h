// ckpt/runtime/meta_graph_import.h — loading a `.meta` file (TensorFlow's or
// ours) as a runnable graph, as tf.train.import_meta_graph does.
//
//   CKPT_ASSIGN_OR_RETURN(ckpt::ImportedMetaGraph mg,
//                         ckpt::ImportMetaGraph("run/model.ckpt-1000.meta"));
//   ckpt::Session session(mg.graph.get());
//   CKPT_RETURN_IF_ERROR(mg.saver->Restore(&session, "run/model.ckpt-1000"));
//   auto out = session.Run({{"Placeholder:0", x}}, {"Add:0"});
//   // mg.graph->collections().at("train_op") names the training op
//
// The graph is built with Graph::FromGraphDef: every op must be one the
// registry knows (NotFound naming the op and the node otherwise), missing
// attrs are filled from the OpDefs' defaults, and producer versions before 22
// read a Placeholder shape [] as unknown. Then the MetaGraphDef's collections
// are taken over: "variables" and "trainable_variables" (serialized
// VariableDefs) become the graph's variables, every node_list collection one
// of its named collections; other collections are left in `meta_graph`.
// Restoring runs through the graph's own SaverDef (its filename tensor fed
// with the prefix, its restore op run), as TensorFlow does; see saver.h for
// the checks made first.
#ifndef CKPT_RUNTIME_META_GRAPH_IMPORT_H_
#define CKPT_RUNTIME_META_GRAPH_IMPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ckpt/env.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/saver.h"
#include "meta_graph.pb.h"

namespace ckpt {

struct ImportedMetaGraph {
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Saver> saver;              // null if the MetaGraphDef has no saver_def
  ::tensorflow::MetaGraphDef meta_graph;
};

// Reads the binary MetaGraphDef at `meta_path` (errors as ckpt::ReadMetaGraph)
// and imports it. A collection entry that is not a VariableDef is DataLoss; a
// variable or saver node the graph lacks is NotFound.
absl::StatusOr<ImportedMetaGraph> ImportMetaGraph(const std::string& meta_path, Env* env = nullptr);
absl::StatusOr<ImportedMetaGraph> ImportMetaGraph(const ::tensorflow::MetaGraphDef& meta_graph,
                                                  Env* env = nullptr);

}  // namespace ckpt

#endif  // CKPT_RUNTIME_META_GRAPH_IMPORT_H_
