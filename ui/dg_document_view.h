// The base of the editor's widgets that show a document (the canvas and the panels): a "document"
// property (a DgDocument, NULL at first), bindings and signal handlers that last as long as that
// document is shown, and a "status" signal for messages to the status line. Children and the layout
// manager (a vertical GtkBoxLayout for the panels) come from each subclass's template.
#pragma once
#include <gtk/gtk.h>

#include "dg_document_object.h"

G_BEGIN_DECLS

#define DG_TYPE_DOCUMENT_VIEW (dg_document_view_get_type())
G_DECLARE_DERIVABLE_TYPE(DgDocumentView, dg_document_view, DG, DOCUMENT_VIEW, GtkWidget)

struct _DgDocumentViewClass {
  GtkWidgetClass parent_class;
  // After the document was replaced (the old one's bindings and handlers are gone); doc may be NULL.
  void (*document_changed)(DgDocumentView *self, DgDocument *doc);
};

DgDocument *dg_document_view_get_document(DgDocumentView *self);
void dg_document_view_set_document(DgDocumentView *self, DgDocument *doc);
// Binds source's property to target's until the document changes (source: the document or one of
// its parts, such as its results list). Transforms may be NULL.
void dg_document_view_bind(DgDocumentView *self, gpointer source, const char *property, gpointer target,
                           const char *target_property, GBindingFlags flags, GBindingTransformFunc to,
                           GBindingTransformFunc from, gpointer user_data);
// Connects to a signal of the document until it changes (the handler gets self as its data).
void dg_document_view_connect(DgDocumentView *self, const char *signal, GCallback handler);
// Emits "status" with the formatted message.
void dg_document_view_status(DgDocumentView *self, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
// Sets a widget class's template from a resource and binds the named template children to the
// instance struct's members: DG_TEMPLATE_CHILD(DgWindow, canvas) binds id "canvas" to DgWindow.canvas.
typedef struct dg_template_child {
  const char *id;
  gssize offset;
} dg_template_child;
#define DG_TEMPLATE_CHILD(Type, member)                                                                                \
  { #member, G_STRUCT_OFFSET(Type, member) }
void dg_widget_class_set_template(GtkWidgetClass *klass, const char *resource, const dg_template_child *children,
                                  size_t n_children);
// What a picture shows, for dump-state: "" for nothing (or not a texture), else "WxH SHA-256 of the RGBA pixels".
char *dg_paintable_describe(GdkPaintable *p);
// A GtkWidgetClass.compute_expand that expands where a child does, as GtkBox does.
void dg_widget_compute_expand_from_children(GtkWidget *widget, gboolean *hexpand, gboolean *vexpand);

G_END_DECLS
