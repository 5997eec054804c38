// Where the pages find the API. "" = the same origin (`tresen dev` serves pages and API together).
// In production `tresen web-config` writes this file from the deployed functions' URLs.
window.TRESEN_CONFIG = {
  customerApi: "",
  staffApi: "",
  exportsApi: "",
  firebase: null,
};
