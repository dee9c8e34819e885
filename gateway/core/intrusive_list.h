// A doubly linked list threaded through its elements (T derives from
// IntrusiveList<T>::Hook): registering a connection costs no allocation, and
// removal is O(1). Used by the protocol factories to reach every live
// connection at shutdown.
#pragma once

namespace junction::core {

template <class T>
class IntrusiveList {
 public:
  class Hook {
    friend class IntrusiveList;
    T* prev_ = nullptr;
    T* next_ = nullptr;
  };

  void push_front(T* t) {
    Hook& h = *t;
    h.prev_ = nullptr;
    h.next_ = head_;
    if (head_) static_cast<Hook&>(*head_).prev_ = t;
    head_ = t;
  }

  void remove(T* t) {
    Hook& h = *t;
    if (h.prev_) {
      static_cast<Hook&>(*h.prev_).next_ = h.next_;
    } else if (head_ == t) {
      head_ = h.next_;
    }
    if (h.next_) static_cast<Hook&>(*h.next_).prev_ = h.prev_;
    h.prev_ = h.next_ = nullptr;
  }

  // Calls f(t) for each element; f may remove t itself.
  template <class F>
  void for_each(F&& f) {
    for (T* t = head_; t;) {
      T* next = static_cast<Hook&>(*t).next_;
      f(t);
      t = next;
    }
  }

 private:
  T* head_ = nullptr;
};

}  // namespace junction::core
